/*
 * libkith_int.h: what the files of libkith share, not exported.
 */
#ifndef KITH_LIBKITH_INT_H
#define KITH_LIBKITH_INT_H

/**
 * lib_err(err): the public KITH_LIB_* code for an internal KITH_E* code.
 */
int lib_err(int err);

#endif
