//! What a file is, judged by its first bytes ([`infer`]), never by its name or the
//! Content-Type the client sent.

/// Bytes enough to recognise every type [`infer`] knows.
pub const SNIFF_BYTES: usize = 8192;

/// The raster image formats we decode, clean and thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
}

impl ImageType {
    /// Its media type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    pub(crate) fn format(self) -> image::ImageFormat {
        match self {
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Png => image::ImageFormat::Png,
            Self::Gif => image::ImageFormat::Gif,
            Self::Webp => image::ImageFormat::WebP,
        }
    }
}

/// What the bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// A raster image we process.
    Image(ImageType),
    /// Anything else, with the media type its bytes show (`application/octet-stream` when
    /// unknown). Stored as it is, never unpacked or run.
    Other(&'static str),
}

impl Sniffed {
    /// Its media type.
    pub fn mime(&self) -> &'static str {
        match self {
            Self::Image(image) => image.mime(),
            Self::Other(mime) => mime,
        }
    }
}

/// Classifies a file by its first bytes (up to [`SNIFF_BYTES`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    let Some(kind) = infer::get(head) else {
        return Sniffed::Other(text_or_binary(head));
    };
    match kind.mime_type() {
        "image/jpeg" => Sniffed::Image(ImageType::Jpeg),
        "image/png" => Sniffed::Image(ImageType::Png),
        "image/gif" => Sniffed::Image(ImageType::Gif),
        "image/webp" => Sniffed::Image(ImageType::Webp),
        // Markup (HTML, XML, SVG) is text to us: nothing we serve is rendered as a page.
        other if other.starts_with("text/") || other.contains("xml") => {
            Sniffed::Other("text/plain")
        }
        other => Sniffed::Other(other),
    }
}

/// Text (UTF-8 without control characters other than whitespace) is `text/plain`, anything
/// else unknown is `application/octet-stream`. SVG, HTML and the like are text here, so they
/// are never served as something a browser renders.
fn text_or_binary(head: &[u8]) -> &'static str {
    // The head may end inside a character: judge what is complete.
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return "application/octet-stream",
    };
    if !head.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_signatures() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Sniffed::Image(ImageType::Png)
        );
        assert_eq!(
            sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"),
            Sniffed::Image(ImageType::Jpeg)
        );
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Sniffed::Image(ImageType::Gif));
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Sniffed::Image(ImageType::Webp)
        );
    }

    #[test]
    fn other_files_keep_the_type_of_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Other("application/pdf"));
        assert_eq!(
            sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"),
            Sniffed::Other("application/vnd.microsoft.portable-executable")
        );
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        elf[16] = 2; // an executable
        assert_eq!(sniff(&elf), Sniffed::Other("application/x-executable"));
    }

    #[test]
    fn markup_is_plain_text_and_unknown_bytes_are_octets() {
        assert_eq!(
            sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
            Sniffed::Other("text/plain")
        );
        assert_eq!(
            sniff(b"<!DOCTYPE html><html>"),
            Sniffed::Other("text/plain")
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><svg/>"),
            Sniffed::Other("text/plain")
        );
        assert_eq!(
            sniff("héllo wörld\n".as_bytes()),
            Sniffed::Other("text/plain")
        );
        assert_eq!(
            sniff(&[0, 1, 2, 3, 200, 201]),
            Sniffed::Other("application/octet-stream")
        );
        assert_eq!(sniff(b""), Sniffed::Other("application/octet-stream"));
        // A character cut by the end of the head is still text.
        assert_eq!(sniff(&"aé".as_bytes()[..2]), Sniffed::Other("text/plain"));
    }
}
