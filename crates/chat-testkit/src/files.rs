//! Files for upload tests, made on the spot: images (one with EXIF orientation and a GPS
//! position, one that claims a canvas far too large), a PDF, an executable; and uploads as
//! raw bodies, with or without a declared length.

use std::io::Cursor;

use reqwest::{Body, Method, Response};

use crate::{Stack, TestUser};

/// A PNG of `width`×`height` with a gradient (so it compresses like a picture, not a blank).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// The text the GPS block of [`jpeg_with_gps`] carries, to look for afterwards.
pub const GPS_MARKER: &[u8] = b"SECRET-LOCATION";

/// A JPEG of `width`×`height` whose EXIF says "rotate 90° clockwise to view" (orientation 6)
/// and holds a GPS position (latitude 48°51'30", processing method [`GPS_MARKER`]).
pub fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, _| {
        image::Rgb([if x < width / 2 { 250 } else { 10 }, 40, 40])
    });
    let mut plain = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    let tiff = exif_tiff();
    let mut app1 = vec![0xFF, 0xE1];
    let length = u16::try_from(2 + 6 + tiff.len()).unwrap();
    app1.extend_from_slice(&length.to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    // Right after the start-of-image marker, where cameras put it.
    let mut jpeg = plain[..2].to_vec();
    jpeg.extend_from_slice(&app1);
    jpeg.extend_from_slice(&plain[2..]);
    jpeg
}

/// A little-endian TIFF block: IFD0 with the orientation and a pointer to the GPS IFD, which
/// holds a latitude and a processing method.
fn exif_tiff() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const RATIONAL: u16 = 5;
    const UNDEFINED: u16 = 7;
    let (ifd0, gps_ifd, latitude, method) = (8_u32, 38_u32, 68_u32, 92_u32);
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&ifd0.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    entry(&mut out, 0x0112, SHORT, 1, 6); // Orientation: rotate 90° clockwise
    entry(&mut out, 0x8825, LONG, 1, gps_ifd); // GPSInfo
    out.extend_from_slice(&0_u32.to_le_bytes());
    out.extend_from_slice(&2_u16.to_le_bytes());
    entry(&mut out, 0x0002, RATIONAL, 3, latitude); // GPSLatitude
    let method_text = [b"ASCII\0\0\0".as_slice(), GPS_MARKER].concat();
    entry(
        &mut out,
        0x001B,
        UNDEFINED,
        u32::try_from(method_text.len()).unwrap(),
        method,
    ); // GPSProcessingMethod
    out.extend_from_slice(&0_u32.to_le_bytes());
    assert_eq!(out.len(), latitude as usize);
    for (numerator, denominator) in [(48_u32, 1_u32), (51, 1), (30, 1)] {
        out.extend_from_slice(&numerator.to_le_bytes());
        out.extend_from_slice(&denominator.to_le_bytes());
    }
    assert_eq!(out.len(), method as usize);
    out.extend_from_slice(&method_text);
    out
}

/// A tiny PNG that claims `width`×`height` RGBA pixels: a decompression bomb's header (its
/// data is a few bytes; decoding it in full would need width × height × 4 bytes).
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, no interlace
    chunk(&mut out, b"IHDR", &header);
    // A zlib stream of one stored block of zeros.
    chunk(
        &mut out,
        b"IDAT",
        &[
            0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0, 0, 0, 0, 0, 0x04, 0, 0x01,
        ],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A small, valid PDF.
pub fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n\
trailer<</Root 1 0 R>>\n%%EOF\n"
        .to_vec()
}

/// The start of a Linux executable (an ELF header), padded to `size` bytes.
pub fn executable(size: usize) -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
    bytes.resize(size.max(64), 0);
    bytes[16] = 2; // ET_EXEC
    bytes
}

/// `size` bytes that no sniffer recognises.
pub fn noise(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8 | 0x80).collect()
}

impl Stack {
    /// Uploads `bytes` as `user` with `method` to `url`, declaring their length.
    pub async fn upload_to(
        &self,
        method: Method,
        url: &str,
        user: &TestUser,
        bytes: Vec<u8>,
    ) -> Response {
        self.client
            .request(method, url)
            .bearer_auth(&user.access)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Uploads `bytes` as a stream of 64 KiB chunks without a declared length (as a client
    /// that does not know it would), so only the bytes themselves can trip the limit.
    pub async fn upload_streamed(
        &self,
        method: Method,
        url: &str,
        user: &TestUser,
        bytes: Vec<u8>,
    ) -> Response {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes
            .chunks(64 * 1024)
            .map(|chunk| Ok(chunk.to_vec()))
            .collect();
        self.client
            .request(method, url)
            .bearer_auth(&user.access)
            .body(Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await
            .unwrap()
    }

    /// Uploads an attachment named `name` to this stack's message-service.
    pub async fn attach(&self, user: &TestUser, name: &str, bytes: Vec<u8>) -> Response {
        let url = format!(
            "{}/attachments?name={}",
            self.messages,
            url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        );
        self.upload_to(Method::POST, &url, user, bytes).await
    }
}
