/*
 * memcpy and memmove for the static (musl) release binary.
 *
 * musl's x86-64 memcpy is `rep movsq`, whose start-up cost dominates the
 * short copies a scan makes by the million (strings, small vectors): it was
 * 17% of the static binary's profile against 4% for glibc's, and the static
 * binary 20% slower end to end. Short copies here are two overlapping loads
 * and stores of the largest width that fits; longer ones move 32 bytes per
 * step and finish with one overlapping 32-byte step. Every path loads what it
 * stores before storing it, or walks away from the overlap, so the same code
 * serves memmove. memmove is replaced too because musl's memmove calls into
 * musl's memcpy object, which would then clash with this one.
 *
 * Built twice by build.rs: as `kridik_memcpy`/`kridik_memmove` on every
 * target (the host's unit test compares them with a reference over sizes,
 * alignments and overlaps) and, for musl only, as `memcpy`/`memmove`, which
 * the linker then takes instead of libc.a's. -fno-builtin and
 * -fno-tree-loop-distribute-patterns keep the compiler from turning the
 * loops below back into calls to memcpy.
 */
#include <stddef.h>
#include <stdint.h>

#ifndef KRIDIK_MEMCPY_NAME
#define KRIDIK_MEMCPY_NAME kridik_memcpy
#define KRIDIK_MEMMOVE_NAME kridik_memmove
#endif

typedef struct { uint64_t a, b; } block16;

#define LOAD(type, p) ({ type v_; __builtin_memcpy(&v_, (p), sizeof(type)); v_; })
#define STORE(type, p, v) do { type v_ = (v); __builtin_memcpy((p), &v_, sizeof(type)); } while (0)

/* The first and the last `sizeof(type)` bytes, both loaded before either is
 * stored: exact for any n from sizeof(type) to twice that, overlap included. */
#define HEAD_AND_TAIL(type)                                       \
    do {                                                          \
        type head = LOAD(type, s), tail = LOAD(type, s + n - sizeof(type)); \
        STORE(type, d, head);                                     \
        STORE(type, d + n - sizeof(type), tail);                  \
    } while (0)

/* n <= 32. */
static inline void copy_short(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n > 16)
        HEAD_AND_TAIL(block16);
    else if (n >= 8)
        HEAD_AND_TAIL(uint64_t);
    else if (n >= 4)
        HEAD_AND_TAIL(uint32_t);
    else if (n >= 2)
        HEAD_AND_TAIL(uint16_t);
    else if (n == 1)
        *d = *s;
}

/* n > 32, destination below the source or apart from it: front to back,
 * the last 32 source bytes read first. */
static inline void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
    block16 t0 = LOAD(block16, s + n - 32), t1 = LOAD(block16, s + n - 16);
    for (size_t i = 0; i + 32 <= n; i += 32) {
        block16 x = LOAD(block16, s + i), y = LOAD(block16, s + i + 16);
        STORE(block16, d + i, x);
        STORE(block16, d + i + 16, y);
    }
    STORE(block16, d + n - 32, t0);
    STORE(block16, d + n - 16, t1);
}

/* n > 32, destination above an overlapping source: back to front, the first
 * 32 source bytes read first. */
static inline void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
    block16 h0 = LOAD(block16, s), h1 = LOAD(block16, s + 16);
    for (size_t i = n; i >= 32;) {
        i -= 32;
        block16 x = LOAD(block16, s + i), y = LOAD(block16, s + i + 16);
        STORE(block16, d + i, x);
        STORE(block16, d + i + 16, y);
    }
    STORE(block16, d, h0);
    STORE(block16, d + 16, h1);
}

void *KRIDIK_MEMCPY_NAME(void *restrict dest, const void *restrict src, size_t n)
{
    if (n <= 32)
        copy_short(dest, src, n);
    else
        copy_forward(dest, src, n);
    return dest;
}

void *KRIDIK_MEMMOVE_NAME(void *dest, const void *src, size_t n)
{
    unsigned char *d = dest;
    const unsigned char *s = src;
    if (n <= 32)
        copy_short(d, s, n);
    else if ((uintptr_t)d - (uintptr_t)s >= n)
        copy_forward(d, s, n); /* below the source, or no overlap */
    else
        copy_backward(d, s, n);
    return dest;
}
