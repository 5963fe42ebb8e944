//! Images as we keep them: decoded under limits (a small file that claims a huge canvas, a
//! decompression bomb, is refused before its pixels are allocated), turned upright by the
//! EXIF orientation, re-encoded without any metadata (EXIF with its GPS position, XMP,
//! comments, colour profiles), plus a thumbnail.
//!
//! JPEG stays JPEG and PNG stays PNG. WebP becomes PNG when it has transparency and JPEG
//! otherwise (no lossy WebP encoder here). GIF frames are copied as they are, palette
//! indexes and timing included, so animations survive and nothing but the frames is kept.
//! CPU-bound: call from `spawn_blocking` (see [`crate::intake`]).

use std::io::Cursor;

use bytes::Bytes;
use chat_models::{ApiError, ErrorCode};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder as _, ImageReader};

use crate::sniff::ImageType;

/// Limits on what is decoded.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Widest and tallest accepted side, in pixels.
    pub max_side: u32,
    /// Most pixels of one image (of all frames together for a GIF).
    pub max_pixels: u64,
    /// Most memory the decoder may allocate, in bytes.
    pub max_alloc: u64,
    /// Kept images larger than this are scaled down to fit (`None`: kept at full size).
    pub fit_within: Option<u32>,
    /// Thumbnails fit within this square.
    pub thumbnail_side: u32,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_side: 12_000,
            max_pixels: 50_000_000,
            max_alloc: 512 * 1024 * 1024,
            fit_within: None,
            thumbnail_side: 320,
        }
    }
}

/// One encoded picture.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Its bytes.
    pub bytes: Bytes,
    /// Their media type.
    pub mime: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// An image as stored, and its thumbnail.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The cleaned image.
    pub image: Encoded,
    /// Its thumbnail.
    pub thumbnail: Encoded,
}

/// Decodes, checks, cleans and thumbnails an image whose bytes sniffed as `kind`.
pub fn process(bytes: &[u8], kind: ImageType, limits: &ImageLimits) -> Result<Processed, ApiError> {
    if kind == ImageType::Gif {
        return process_gif(bytes, limits);
    }
    let image = decode(bytes, kind, limits)?;
    let image = match limits.fit_within {
        Some(side) if image.width() > side || image.height() > side => {
            image.resize(side, side, image::imageops::FilterType::Lanczos3)
        }
        _ => image,
    };
    let kept = match kind {
        ImageType::Jpeg => encode_jpeg(&image, 88)?,
        ImageType::Png => encode_png(&image)?,
        ImageType::Webp | ImageType::Gif if image.color().has_alpha() => encode_png(&image)?,
        ImageType::Webp | ImageType::Gif => encode_jpeg(&image, 88)?,
    };
    Ok(Processed {
        image: kept,
        thumbnail: thumbnail(&image, limits.thumbnail_side)?,
    })
}

/// Decodes one still image upright, within the limits.
fn decode(bytes: &[u8], kind: ImageType, limits: &ImageLimits) -> Result<DynamicImage, ApiError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(decoder_limits(limits));
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    check_pixels(u64::from(width) * u64::from(height), limits)?;
    // An unreadable orientation is no reason to refuse the picture: keep it as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn decoder_limits(limits: &ImageLimits) -> image::Limits {
    let mut decoder = image::Limits::default();
    decoder.max_image_width = Some(limits.max_side);
    decoder.max_image_height = Some(limits.max_side);
    decoder.max_alloc = Some(limits.max_alloc);
    decoder
}

fn check_pixels(pixels: u64, limits: &ImageLimits) -> Result<(), ApiError> {
    if pixels > limits.max_pixels {
        return Err(too_large());
    }
    Ok(())
}

fn too_large() -> ApiError {
    ApiError::BadRequest(
        ErrorCode::ImageTooLarge,
        ErrorCode::ImageTooLarge.message().to_owned(),
    )
}

/// A decoder's refusal: over a limit, or not a readable image.
fn refused(error: image::ImageError) -> ApiError {
    match error {
        image::ImageError::Limits(_) => too_large(),
        _ => ApiError::BadRequest(
            ErrorCode::InvalidImage,
            ErrorCode::InvalidImage.message().to_owned(),
        ),
    }
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Encoded, ApiError> {
    let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
    let mut bytes = Vec::new();
    rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut bytes, quality))
        .map_err(encoding_failed)?;
    Ok(Encoded {
        bytes: bytes.into(),
        mime: "image/jpeg",
        width: image.width(),
        height: image.height(),
    })
}

fn encode_png(image: &DynamicImage) -> Result<Encoded, ApiError> {
    let mut bytes = Vec::new();
    image
        .write_with_encoder(PngEncoder::new(&mut bytes))
        .map_err(encoding_failed)?;
    Ok(Encoded {
        bytes: bytes.into(),
        mime: "image/png",
        width: image.width(),
        height: image.height(),
    })
}

fn encoding_failed(error: image::ImageError) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error).context("encoding an image"))
}

/// A small copy fitting a `side`-pixel square: JPEG, or PNG where there is transparency.
fn thumbnail(image: &DynamicImage, side: u32) -> Result<Encoded, ApiError> {
    let small = if image.width() > side || image.height() > side {
        image.thumbnail(side, side)
    } else {
        image.clone()
    };
    if small.color().has_alpha() {
        encode_png(&small)
    } else {
        encode_jpeg(&small, 80)
    }
}

/// A GIF: every frame copied as decoded (indexes, palette, position, delay, disposal), the
/// loop kept, everything else (comments, XMP and other application blocks) left out.
fn process_gif(bytes: &[u8], limits: &ImageLimits) -> Result<Processed, ApiError> {
    let invalid = || {
        ApiError::BadRequest(
            ErrorCode::InvalidImage,
            ErrorCode::InvalidImage.message().to_owned(),
        )
    };
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    options.set_memory_limit(gif::MemoryLimit::Bytes(
        std::num::NonZeroU64::new(limits.max_alloc).unwrap_or(std::num::NonZeroU64::MIN),
    ));
    let mut decoder = options
        .read_info(Cursor::new(bytes))
        .map_err(|_| invalid())?;
    let (width, height) = (decoder.width(), decoder.height());
    if u32::from(width) > limits.max_side || u32::from(height) > limits.max_side {
        return Err(too_large());
    }
    let pixels = u64::from(width) * u64::from(height);
    check_pixels(pixels, limits)?;
    let palette = decoder.global_palette().map(<[u8]>::to_vec);
    let mut out = Vec::new();
    {
        let mut encoder =
            gif::Encoder::new(&mut out, width, height, palette.as_deref().unwrap_or(&[]))
                .map_err(|error| ApiError::Internal(anyhow::Error::new(error)))?;
        if decoder.repeat() != gif::Repeat::Finite(0) {
            encoder
                .set_repeat(decoder.repeat())
                .map_err(|error| ApiError::Internal(anyhow::Error::new(error)))?;
        }
        let mut decoded: u64 = 0;
        while let Some(frame) = decoder.read_next_frame().map_err(|_| invalid())? {
            decoded += u64::from(frame.width) * u64::from(frame.height);
            check_pixels(decoded, limits)?;
            encoder
                .write_frame(frame)
                .map_err(|error| ApiError::Internal(anyhow::Error::new(error)))?;
        }
        if decoded == 0 {
            return Err(invalid());
        }
    }
    // The thumbnail and the checks above used separate decoders: the first frame, composed.
    let first = decode(bytes, ImageType::Gif, limits)?;
    Ok(Processed {
        image: Encoded {
            bytes: out.into(),
            mime: "image/gif",
            width: u32::from(width),
            height: u32::from(height),
        },
        thumbnail: thumbnail(&first, limits.thumbnail_side)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        encode_png(&image)
            .map(|encoded| encoded.bytes.to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn a_png_is_kept_as_png_with_a_thumbnail_that_fits() {
        let processed = process(&png(800, 400), ImageType::Png, &ImageLimits::default());
        let processed = processed.map_err(|error| error.to_string());
        let Ok(processed) = processed else {
            panic!("refused: {processed:?}");
        };
        assert_eq!(
            (
                processed.image.mime,
                processed.image.width,
                processed.image.height
            ),
            ("image/png", 800, 400)
        );
        assert_eq!(
            (processed.thumbnail.width, processed.thumbnail.height),
            (320, 160)
        );
        assert_eq!(processed.thumbnail.mime, "image/jpeg");
    }

    #[test]
    fn large_images_are_scaled_down_when_asked() {
        let limits = ImageLimits {
            fit_within: Some(100),
            ..ImageLimits::default()
        };
        let processed = process(&png(300, 150), ImageType::Png, &limits).map_err(|e| e.to_string());
        assert_eq!(
            processed.map(|p| (p.image.width, p.image.height)),
            Ok((100, 50))
        );
    }

    #[test]
    fn garbage_with_an_image_signature_is_invalid() {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[7; 100]);
        let refused = process(&bytes, ImageType::Png, &ImageLimits::default());
        assert_eq!(
            refused.map(|_| ()).map_err(|e| e.code()),
            Err(ErrorCode::InvalidImage)
        );
    }

    #[test]
    fn too_many_pixels_are_refused() {
        let limits = ImageLimits {
            max_pixels: 10_000,
            ..ImageLimits::default()
        };
        let refused = process(&png(200, 100), ImageType::Png, &limits);
        assert_eq!(
            refused.map(|_| ()).map_err(|e| e.code()),
            Err(ErrorCode::ImageTooLarge)
        );
    }

    #[test]
    fn gif_frames_are_copied_and_the_comment_is_dropped() {
        let mut bytes = Vec::new();
        {
            let palette = [0, 0, 0, 255, 255, 255];
            let mut encoder =
                gif::Encoder::new(&mut bytes, 4, 4, &palette).unwrap_or_else(|e| panic!("{e}"));
            encoder
                .set_repeat(gif::Repeat::Infinite)
                .unwrap_or_else(|e| panic!("{e}"));
            encoder
                .write_raw_extension(gif::AnyExtension(0xFE), &[b"secret comment"])
                .unwrap_or_else(|e| panic!("{e}"));
            for shade in [0_u8, 1] {
                let mut frame = gif::Frame {
                    width: 4,
                    height: 4,
                    buffer: std::borrow::Cow::Owned(vec![shade; 16]),
                    delay: 10,
                    ..gif::Frame::default()
                };
                frame.palette = None;
                encoder
                    .write_frame(&frame)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        assert!(bytes.windows(14).any(|w| w == b"secret comment"));
        let processed = process(&bytes, ImageType::Gif, &ImageLimits::default())
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let kept = processed.image.bytes;
        assert!(!kept.windows(14).any(|w| w == b"secret comment"));
        let mut decoder = gif::DecodeOptions::new()
            .read_info(Cursor::new(&kept[..]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decoder.repeat(), gif::Repeat::Infinite);
        let mut frames = 0;
        while let Ok(Some(_)) = decoder.read_next_frame() {
            frames += 1;
        }
        assert_eq!(frames, 2);
    }
}
