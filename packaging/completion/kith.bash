# bash completion for kith and kithd                       -*- shell-script -*-
#
# Commands, subcommands and options are read from the binary's own --help
# at completion time (the binary being completed: the first word of the
# line), so this file never drifts from it.  Which kind of value a word
# takes comes from the metavariable --help prints after the option (DIR,
# FILE, IMAGE), and for the few positional arguments from the table in
# _kith_positional.  Device names and invitation ids come from the home
# the line selects (--home, else $KITH_HOME, else the default).
#
# Every helper run here must be harmless at a TAB press: it only ever runs
# `--help`, `devices --json` or `invite list --json`, with stdin and stderr
# on /dev/null, a passphrase file that is never a terminal prompt, and a
# time limit.

# _kith_run BIN ARGS...: run a helper silently, never asking, never long.
# A locked device is opened with the passphrase file the line (or
# $KITH_PASSPHRASE_FILE) names; without one, /dev/null makes kith refuse
# at once instead of prompting on the terminal.
_kith_run()
{
    local bin=$1
    shift
    if type -P timeout &>/dev/null; then
        # timeout(1) runs the helper in a process group of its own: even a
        # read of the terminal could not steal the user's keys.
        timeout 3 "$bin" --passphrase-file "${_kith_pf:-/dev/null}" "$@" \
            </dev/null 2>/dev/null
    else
        "$bin" --passphrase-file "${_kith_pf:-/dev/null}" "$@" \
            </dev/null 2>/dev/null
    fi
}

# _kith_word WORD: a word of the line as the shell would pass it (quotes
# and backslashes removed, a leading ~/ expanded), without eval.
_kith_word()
{
    local w=$1
    case $w in
        \'*\') w=${w:1:${#w}-2} ;;
        \"*\") w=${w:1:${#w}-2} ;;
        *) w=${w//\\/} ;;
    esac
    # shellcheck disable=SC2088 # the literal ~ the user typed
    [[ $w == "~" || $w == "~/"* ]] && w=$HOME${w:1}
    printf '%s' "$w"
}

# _kith_commands BIN: the commands `BIN --help` lists (two-space indented
# lines; deeper ones continue the line above).
_kith_commands()
{
    _kith_run "$1" --help | sed -n 's/^  \([a-z][a-z0-9-]*\).*/\1/p' |
        sort -u
}

# _kith_usage: from --help text on stdin, the lines that name options:
# usage lines, their continuations, and "  --option ARG  what" lines.
# Prints "--option METAVAR" (METAVAR empty for a flag), one a line.
_kith_optlines()
{
    awk '
    function scan(s, only_first,    n, t, i, o) {
        gsub(/[][|()]/, " ", s)
        n = split(s, t, /[ \t]+/)
        for (i = 1; i <= n; i++) {
            if (t[i] !~ /^--?[a-z][a-z0-9-]*$/)
                continue
            o = t[i]
            if (i < n && t[i + 1] ~ /^[A-Z][A-Za-z0-9_.:]*(\.\.\.)?$/)
                print o, t[i + 1]
            else
                print o, ""
            if (only_first)
                return
        }
    }
    /^usage:/ || /^[ \t]+(\[|kith |kithd )/ { scan($0, 0); next }
    /^[ \t]+(-[a-z], )?--[a-z][a-z0-9-]*( [A-Z][^ ]*)?( |$)/ {
        sub(/^[ \t]+-[a-z], /, " ")
        scan($0, 1)
    }'
}

# _kith_subs BIN CMD: the subcommands of CMD, the word after "kith CMD"
# in its usage lines when it is a plain word (or words joined by |).
_kith_subs()
{
    _kith_run "$1" "$2" --help | awk -v cmd="$2" '
    {
        for (i = 1; i < NF; i++)
            if ($i == "kith" && $(i + 1) == cmd && i + 2 <= NF &&
                $(i + 2) ~ /^[a-z]+(\|[a-z]+)*$/) {
                n = split($(i + 2), w, "|")
                for (k = 1; k <= n; k++)
                    print w[k]
            }
    }' | sort -u
}

# _kith_opts BIN CMD [SUB]: "--option METAVAR" lines for CMD (SUB).  The
# usage lines of CMD --help that name SUB are used when there are any
# (history: `history add --help` would not print help), else SUB --help.
_kith_opts()
{
    local bin=$1 cmd=$2 sub=$3 help
    if [[ $bin == *kithd ]]; then
        _kith_run "$bin" --help | _kith_optlines
        return
    fi
    help=$(_kith_run "$bin" "$cmd" --help)
    if [[ -n $sub ]]; then
        local mine
        mine=$(printf '%s\n' "$help" | grep -E "kith $cmd $sub( |\$)" |
            sed 's/^[ \t]*/usage: /')
        if [[ -n $mine ]]; then
            help=$mine
        else
            help=$(_kith_run "$bin" "$cmd" "$sub" --help)
        fi
    fi
    printf '%s\n' "$help" | _kith_optlines
    # Accepted anywhere on the line.
    _kith_run "$bin" --help | sed -n '/^usage:/p' | _kith_optlines
}

# _kith_json_strings KEY: the values of "KEY":"..." in the JSON on stdin,
# one per object of the array the objects sit in, for the objects whose
# text also matches the ERE $2 (and not $3, when given).
_kith_json_pick()
{
    local key=$1 want=$2 not=$3
    sed "s/{\"$key\":\"/\n/g" | sed -n '2,$p' | while IFS= read -r rec; do
        [[ $rec =~ $want ]] || continue
        [[ -n $not && $rec =~ $not ]] && continue
        rec=${rec%%\",*}
        rec=${rec%%\"\}*}
        rec=${rec//\\\"/\"}
        rec=${rec//\\\//\/}
        printf '%s\n' "${rec//\\\\/\\}"
    done
}

# _kith_reply WORDS...: COMPREPLY from WORDS matching $cur, each quoted for
# the line (a device name may hold spaces).
_kith_reply()
{
    local w
    COMPREPLY=()
    for w in "$@"; do
        [[ $w == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$w")")
    done
}

# _kith_contacts / _kith_groups: the aliases of the verified contacts,
# the names of the groups, of the home the line selects (bin and
# _kith_home are _kith's).
_kith_contacts()
{
    local -a home=() names=()
    [[ -n $_kith_home ]] && home=(--home "$_kith_home")
    mapfile -t names < <(_kith_run "$bin" "${home[@]}" --json contacts |
        _kith_json_pick alias '' '')
    _kith_reply "${names[@]}"
}

_kith_groups()
{
    local -a home=() names=()
    [[ -n $_kith_home ]] && home=(--home "$_kith_home")
    mapfile -t names < <(_kith_run "$bin" "${home[@]}" --json group list |
        _kith_json_pick name '' '')
    _kith_reply "${names[@]}"
}

# _kith_value OPT METAVAR: complete the value of OPT.
_kith_value()
{
    case $1 in
        --qr-png | --reply-png)
            _filedir png
            return
            ;;
        --to | --member)
            _kith_contacts
            return
            ;;
        --group)
            _kith_groups
            return
            ;;
    esac
    case $2 in
        DIR*) _filedir -d ;;
        IMAGE*) _filedir '@(png|jpg|jpeg)' ;;
        FILE.jsonl) _filedir jsonl ;;
        FILE*) _filedir ;;
        *) COMPREPLY=() ;;
    esac
}

# _kith_positional BIN CMD SUB: complete a positional argument.
_kith_positional()
{
    local bin=$1 cmd=$2 sub=$3 w
    local -a home=() names=() have=()
    [[ -n $_kith_home ]] && home=(--home "$_kith_home")
    case "$cmd${sub:+ $sub}" in
        join | "invite scan")
            ((npos == 0)) && _filedir '@(png|jpg|jpeg)'
            ;;
        revoke)
            # Active devices other than this one: kith refuses the rest.
            mapfile -t names < <(_kith_run "$bin" "${home[@]}" --json \
                devices | _kith_json_pick name '"status":"active"' \
                '"this":true')
            have=("${pos[@]}")
            local -a keep=()
            for w in "${names[@]}"; do
                [[ " ${have[*]} " == *" $w "* ]] || keep+=("$w")
            done
            _kith_reply "${keep[@]}"
            ;;
        "invite revoke")
            # The invitations this account issued and has not withdrawn
            # (those received are listed after "received").
            ((npos == 0)) || return
            mapfile -t names < <(_kith_run "$bin" "${home[@]}" --json \
                invite list | sed 's/"received":.*//' |
                _kith_json_pick id '"state":' '"state":"withdrawn"')
            _kith_reply "${names[@]}"
            ;;
        "contacts update")
            ((npos == 0)) && _kith_contacts
            ;;
        seal | open)
            ((npos == 0)) && _filedir
            ;;
        "invite verify" | "roster verify")
            ((npos == 0)) && _filedir
            ;;
        "history import")
            ((npos == 0)) && _filedir jsonl
            ;;
        restore)
            ((npos == 0)) && _filedir -d
            ;;
    esac
}

_kith()
{
    local cur prev words cword split
    _init_completion -s || return

    local bin
    bin=$(_kith_word "${words[0]}")
    local _kith_home=${KITH_HOME:-} _kith_pf=${KITH_PASSPHRASE_FILE:-}
    local cmd='' sub='' subs='' i w o m npos=0
    local -a pos=() opts=()
    local -A meta=()

    # The options of the command line, once the command is known.
    if [[ $bin == *kithd ]]; then
        cmd=kithd
    fi

    # Walk the words before the cursor as kith would: global options
    # first taken out wherever they stand, then the command, its
    # subcommand, and the arguments.
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --home | --passphrase-file)
                ((i + 1 < cword)) || break
                [[ $w == --home ]] &&
                    _kith_home=$(_kith_word "${words[i + 1]}") ||
                    _kith_pf=$(_kith_word "${words[i + 1]}")
                ((i++))
                continue
                ;;
            --home=*) _kith_home=$(_kith_word "${w#--home=}"); continue ;;
            --passphrase-file=*)
                _kith_pf=$(_kith_word "${w#*=}")
                continue
                ;;
            --json) continue ;;
        esac
        if [[ -z $cmd ]]; then
            [[ $w == -* ]] && continue
            cmd=$w
            subs=$(_kith_subs "$bin" "$cmd")
            continue
        fi
        if [[ -n $subs && -z $sub ]]; then
            sub=$w
            continue
        fi
        if [[ $w == -* ]]; then
            # An option: skip its value when --help gives it one.
            if ((${#meta[@]} == 0)); then
                while read -r o m; do
                    [[ -n ${meta[$o]+x} && -z $m ]] || meta[$o]=$m
                done < <(_kith_opts "$bin" "$cmd" "$sub")
            fi
            [[ -n ${meta[$w]} ]] && ((i++))
        else
            pos+=("$(_kith_word "$w")")
            ((npos++))
        fi
    done

    # A value for the option before the cursor.
    case $prev in
        --home)
            _filedir -d
            return
            ;;
        --passphrase-file)
            _filedir
            return
            ;;
    esac
    if [[ $prev == -* && -n $cmd ]]; then
        while read -r o m; do
            [[ -n ${meta[$o]+x} && -z $m ]] || meta[$o]=$m
        done < <(_kith_opts "$bin" "$cmd" "$sub")
        if [[ -n ${meta[$prev]} ]]; then
            _kith_value "$prev" "${meta[$prev]}"
            return
        fi
    fi
    $split && return

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            mapfile -t opts < <(_kith_run "$bin" --help | sed -n '/^usage:/p' |
                _kith_optlines | cut -d' ' -f1)
            opts+=(--help --version)
        else
            mapfile -t opts < <(_kith_commands "$bin")
        fi
        _kith_reply "${opts[@]}"
        return
    fi
    if [[ -n $subs && -z $sub ]]; then
        if [[ $cur == -* ]]; then
            _kith_reply --help
        else
            # shellcheck disable=SC2086 # one word a line
            _kith_reply $subs
        fi
        return
    fi
    if [[ $cur == -* ]]; then
        mapfile -t opts < <(_kith_opts "$bin" "$cmd" "$sub" | cut -d' ' -f1 |
            sort -u)
        _kith_reply "${opts[@]}"
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi
    [[ $cmd == kithd ]] && return
    _kith_positional "$bin" "$cmd" "$sub"
} &&
    complete -F _kith kith kithd

# ex: filetype=sh
