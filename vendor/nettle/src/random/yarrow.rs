use libc::size_t;
use nettle_sys::{
    nettle_yarrow256_init, nettle_yarrow256_is_seeded, nettle_yarrow256_random,
    nettle_yarrow256_seed, yarrow256_ctx,
};
use std::mem::{transmute, zeroed};
use std::os::raw::c_void;
use std::ptr;

use super::Random;

/// Yarrow is a secure CRNG developed by Kelsey et.al.
///
/// Default instances are seeded using `OsRng`.
///
/// vdpd patch: a default instance is not a Yarrow generator but the operating
/// system's own (`getrandom(2)`), drawn from for every request. Upstream seeds a
/// fresh Yarrow-256 from 64 bytes of `getrandom` for each default instance, and
/// Sequoia makes one for every random value it needs (each ephemeral X25519 key,
/// the symmetric prefix, a signature's salt); seeding runs 1,500 SHA-256
/// iterations, 0.2-0.3 ms each time, more than the X25519 agreement it serves.
/// The bytes come from the same kernel generator either way; what goes is the
/// stretch in between. Instances made with `from_seed` are Yarrow as before.
pub struct Yarrow {
    context: yarrow256_ctx,
    system: bool,
}

impl Yarrow {
    /// Create a new CRNG instance for `seed`.
    pub fn from_seed(seed: &[u8]) -> Yarrow {
        unsafe {
            let mut ctx = zeroed();

            nettle_yarrow256_init(&mut ctx as *mut _, 0, ptr::null_mut());
            nettle_yarrow256_seed(
                &mut ctx as *mut _,
                seed.len(),
                seed.as_ptr(),
            );

            Yarrow { context: ctx, system: false }
        }
    }
}

impl Random for Yarrow {
    unsafe fn context(&mut self) -> *mut c_void {
        if self.system {
            // vdpd patch: no state; `random_impl` reads the system's generator.
            return ptr::null_mut();
        }
        transmute(&mut self.context)
    }

    unsafe extern "C" fn random_impl(
        ctx: *mut c_void, length: size_t, dst: *mut u8,
    ) {
        if ctx.is_null() {
            // vdpd patch: the system's generator. Called from C (nettle's
            // callbacks), so a failure aborts rather than unwinds, as
            // `Yarrow::default` upstream panics when it cannot seed.
            if length == 0 {
                return;
            }
            let buf = std::slice::from_raw_parts_mut(dst, length);
            if getrandom::fill(buf).is_err() {
                std::process::abort();
            }
            return;
        }
        assert_eq!(nettle_yarrow256_is_seeded(ctx as *mut _), 1);
        nettle_yarrow256_random(ctx as *mut _, length, dst);
    }
}

impl Default for Yarrow {
    fn default() -> Self {
        // vdpd patch: the system's generator, see the type's documentation.
        // Fail where upstream fails, when the system has no generator.
        let mut probe = [0u8; 1];
        if let Err(e) = getrandom::fill(&mut probe) {
            panic!("Failed to initialize random generator: {}", e);
        }
        Yarrow { context: unsafe { zeroed() }, system: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_seeded() {
        let mut rng1 = Yarrow::default();
        let mut rng2 = Yarrow::default();
        let mut buf1 = vec![0u8; 100];
        let mut buf2 = vec![0u8; 100];
        let zero = vec![0u8; 100];

        rng1.random(&mut buf1);
        rng2.random(&mut buf2);

        assert_ne!(buf1, buf2);
        assert_ne!(buf1, zero);
        assert_ne!(buf1, zero);
    }

    /// vdpd patch: default instances read the system's generator, also
    /// through nettle's callbacks, and never yield the same bytes twice.
    #[test]
    fn default_instances_draw_from_the_system() {
        let mut rng = Yarrow::default();
        let mut seen = Vec::new();
        for _ in 0..64 {
            let mut buf = [0u8; 32];
            rng.random(&mut buf);
            assert!(!seen.contains(&buf));
            seen.push(buf);
        }
        let mut buf = [0u8; 32];
        unsafe {
            let ctx = rng.context();
            assert!(ctx.is_null());
            <Yarrow as Random>::random_impl(ctx, buf.len(), buf.as_mut_ptr());
        }
        assert!(!seen.contains(&buf));
        // An empty request from C may come with a dangling pointer.
        unsafe {
            <Yarrow as Random>::random_impl(ptr::null_mut(), 0, ptr::null_mut());
        }
    }

    #[test]
    fn fixed_seed() {
        let seed =
            &b"aaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbcccccccccccccccccccdddd"[..];
        let mut rng1 = Yarrow::from_seed(seed);
        let mut rng2 = Yarrow::from_seed(seed);
        let mut buf1 = vec![0u8; 100];
        let mut buf2 = vec![0u8; 100];
        let zero = vec![0u8; 100];

        rng1.random(&mut buf1);
        rng2.random(&mut buf2);

        assert_eq!(buf1, buf2);
        assert_ne!(buf1, zero);
    }

    #[test]
    fn random_inteface() {
        let seed =
            &b"aaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbcccccccccccccccccccdddd"[..];
        let mut rng1 = Yarrow::from_seed(seed);
        let mut rng2 = Yarrow::from_seed(seed);
        let mut buf1 = vec![0u8; 100];
        let mut buf2 = vec![0u8; 100];
        let zero = vec![0u8; 100];

        rng1.random(&mut buf1);

        unsafe {
            let ctx = rng2.context();
            <Yarrow as Random>::random_impl(ctx, buf2.len(), buf2.as_mut_ptr());
        }

        assert_eq!(buf1, buf2);
        assert_ne!(buf1, zero);
    }
}
