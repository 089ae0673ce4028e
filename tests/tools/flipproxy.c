/*
 * flipproxy LISTEN_PORT TARGET_HOST TARGET_PORT MODE OFFSET
 *
 * A TCP relay for one connection, to play the attacker on the wire:
 *   MODE flip-down: flip one bit of the byte at OFFSET in the stream from
 *                   the target to the client (target -> client)
 *   MODE flip-up:   the same, client -> target
 *   MODE cut-down:  close both sides once OFFSET bytes went down
 * Prints "ready" once listening.  Exits when the connection ends.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_in sin, tin;
	struct pollfd p[2];
	unsigned long long off, down = 0, up = 0, k;
	char buf[65536];
	const char *mode;
	ssize_t r;
	int l, c, t, one = 1, i;

	if (argc != 6) {
		fprintf(stderr, "usage: flipproxy LPORT HOST PORT MODE OFF\n");
		return (2);
	}
	mode = argv[4];
	off = strtoull(argv[5], NULL, 10);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1)) {
		perror("flipproxy: listen");
		return (1);
	}
	printf("ready\n");
	fflush(stdout);
	if ((c = accept(l, NULL, NULL)) == -1)
		return (1);
	memset(&tin, 0, sizeof(tin));
	tin.sin_family = AF_INET;
	tin.sin_port = htons((unsigned short)atoi(argv[3]));
	inet_pton(AF_INET, argv[2], &tin.sin_addr);
	t = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(t, (struct sockaddr *)&tin, sizeof(tin))) {
		perror("flipproxy: connect");
		return (1);
	}
	p[0].fd = c;
	p[1].fd = t;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((r = read(p[i].fd, buf, sizeof(buf))) <= 0)
				goto out;
			if (i == 1) {	/* target -> client */
				if (strcmp(mode, "cut-down") == 0 &&
				    down + (unsigned long long)r >= off) {
					k = off - down;
					if (k > 0 && write(c, buf, k) < 0)
						goto out;
					goto out;
				}
				if (strcmp(mode, "flip-down") == 0 &&
				    off >= down && off < down + (unsigned long long)r)
					buf[off - down] ^= 0x10;
				down += (unsigned long long)r;
				if (write(c, buf, (size_t)r) != r)
					goto out;
			} else {
				if (strcmp(mode, "flip-up") == 0 &&
				    off >= up && off < up + (unsigned long long)r)
					buf[off - up] ^= 0x10;
				up += (unsigned long long)r;
				if (write(t, buf, (size_t)r) != r)
					goto out;
			}
		}
	}
out:
	close(c);
	close(t);
	return (0);
}
