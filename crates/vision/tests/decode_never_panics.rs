//! Property: no byte string makes `decode` panic, in our code or in a decoder.
//!
//! `decode` catches a decoder's panic and reports corrupt data, which would hide one from a plain
//! "returns a Result" check; so this binary installs a panic hook that counts panics, and each
//! case asserts the count did not move. (The hook is process-wide: this file holds only these
//! properties.)

use std::io::Cursor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use proptest::prelude::*;
use vision::image::{DynamicImage, ImageFormat, Rgb, RgbImage};

static PANICS: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();
/// Cases run one at a time so that a panic is charged to the right input.
static SERIAL: Mutex<()> = Mutex::new(());

fn decode_counting_panics(bytes: &[u8]) -> usize {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let before = PANICS.load(Ordering::SeqCst);
    let _ = vision::decode(bytes);
    PANICS.load(Ordering::SeqCst) - before
}

fn sample_files() -> Vec<Vec<u8>> {
    let picture = DynamicImage::ImageRgb8(RgbImage::from_fn(37, 23, |x, y| {
        Rgb([(x * 7) as u8, (y * 11) as u8, ((x * y) % 256) as u8])
    }));
    [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Gif,
        ImageFormat::Bmp,
        ImageFormat::WebP,
    ]
    .into_iter()
    .map(|format| {
        let picture = if format == ImageFormat::WebP || format == ImageFormat::Gif {
            DynamicImage::ImageRgba8(picture.to_rgba8())
        } else {
            picture.clone()
        };
        let mut bytes = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut bytes), format)
            .expect("encoding in memory");
        bytes
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert_eq!(decode_counting_panics(&bytes), 0);
    }

    #[test]
    fn damaged_real_files_never_panic(
        file in 0usize..5,
        cut in 0.0f64..1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..8),
    ) {
        let mut bytes = sample_files().swap_remove(file);
        for (position, value) in flips {
            let index = ((bytes.len() - 1) as f64 * position) as usize;
            bytes[index] = value;
        }
        let keep = ((bytes.len() as f64) * cut) as usize;
        prop_assert_eq!(decode_counting_panics(&bytes[..keep.max(1)]), 0);
    }
}
