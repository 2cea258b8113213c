//! The static release's `memcpy` and `memmove` (host/src/memcpy.c, built by
//! build.rs): musl's `rep movsq` copy made the static binary 20% slower than
//! the glibc one. Only their test lives here; the musl build links them
//! under the C library's names.

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    extern "C" {
        fn kridik_memcpy(dest: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
        fn kridik_memmove(dest: *mut c_void, src: *const c_void, n: usize) -> *mut c_void;
    }

    const SIZES: [usize; 9] = [511, 512, 513, 1000, 1023, 1024, 1025, 2000, 2047];

    #[test]
    fn memcpy_copies_every_size_and_alignment_exactly_and_nothing_else() {
        let src: Vec<u8> = (0..2200u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in (0..300).chain(SIZES) {
            for src_off in 0..16 {
                for dst_off in 0..16 {
                    let mut dst = vec![0xAAu8; 2100];
                    let mut want = dst.clone();
                    want[dst_off..dst_off + n].copy_from_slice(&src[src_off..src_off + n]);
                    // SAFETY: both ranges are in bounds and the vectors do not overlap.
                    let returned = unsafe {
                        kridik_memcpy(
                            dst.as_mut_ptr().add(dst_off).cast(),
                            src.as_ptr().add(src_off).cast(),
                            n,
                        )
                    };
                    assert_eq!(returned, dst[dst_off..].as_mut_ptr().cast());
                    assert!(dst == want, "n={n} src+{src_off} dst+{dst_off}");
                }
            }
        }
    }

    #[test]
    fn memmove_is_exact_for_overlaps_in_both_directions() {
        let original: Vec<u8> = (0..2300u32).map(|i| (i * 13 + 5) as u8).collect();
        for n in (0..300).chain(SIZES) {
            // Source and destination offsets in one buffer: apart, touching,
            // overlapping with the destination below and above the source.
            for (from, to) in [
                (0, 0),
                (0, 1),
                (1, 0),
                (0, 8),
                (8, 0),
                (3, 40),
                (40, 3),
                (0, 250),
                (250, 0),
            ] {
                let mut buf = original.clone();
                let mut want = original.clone();
                let moved = original[from..from + n].to_vec();
                want[to..to + n].copy_from_slice(&moved);
                // SAFETY: both ranges lie inside `buf`; memmove allows overlap.
                let returned = unsafe {
                    let base = buf.as_mut_ptr();
                    kridik_memmove(base.add(to).cast(), base.add(from).cast(), n)
                };
                assert_eq!(returned, buf[to..].as_mut_ptr().cast());
                assert!(buf == want, "n={n} from {from} to {to}");
            }
        }
    }
}
