//! Drawing a payload as a QR code: inline SVG for the checkout page and PNG
//! for downloads and e-mails.
//!
//! Codes use error-correction level M with the standard 4-module quiet zone.
//! Rendering is deterministic (the same payload always gives the same bytes),
//! so [`QrRenderer`] keeps recent renderings in a bounded, thread-safe LRU
//! cache keyed by payload and hands out `Arc`s, making a cache hit a pointer
//! copy. Share one renderer across worker threads through an `Arc`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::bits::Bits;
use qrcode::types::QrError;
use qrcode::{Color, EcLevel, QrCode, Version};

/// Error-correction level of every code we draw: M survives ~15% damage
/// (glare, a scratched screen) at a modest size cost.
pub const EC_LEVEL: EcLevel = EcLevel::M;

/// Light modules around the symbol, as ISO/IEC 18004 requires for scanners to
/// find it reliably.
pub const QUIET_ZONE: usize = 4;

/// PNG pixels per module: about 8 px per module keeps even a version-10 code
/// (57 modules + quiet zone = 520 px) sharp on a phone screen or on paper.
pub const PNG_MODULE_PX: u32 = 8;

/// The most any payload can hold at level M (version 40, all digits). Longer
/// input is refused without running the encoder, which bounds its work.
const MAX_PAYLOAD_BYTES: usize = 5596;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the payload ({bytes} bytes) is too long for a QR code at error-correction level M")]
    TooLong { bytes: usize },
    #[error("the QR code could not be encoded: {0}")]
    Encode(String),
}

/// Whether `payload` fits in a QR code at level M, i.e. whether rendering it
/// can succeed. Exactly the test [`render_svg`] and [`render_png`] apply.
///
/// Capacity depends on content, because the encoder switches modes: at most
/// 2331 bytes of arbitrary text (lower-case URLs), 3391 characters of
/// upper-case alphanumerics, 5596 digits.
pub fn fits_in_qr(payload: &str) -> bool {
    encode(payload).is_ok()
}

fn encode(payload: &str) -> Result<QrCode, RenderError> {
    let too_long = || RenderError::TooLong {
        bytes: payload.len(),
    };
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(too_long());
    }
    let result = if payload.is_ascii() {
        QrCode::with_error_correction_level(payload, EC_LEVEL)
    } else {
        encode_bytes_only(payload.as_bytes())
    };
    result.map_err(|e| match e {
        QrError::DataTooLong => too_long(),
        other => RenderError::Encode(other.to_string()),
    })
}

/// Encodes UTF-8 text in byte mode at the smallest version it fits.
///
/// The `qrcode` optimiser may put byte pairs that look like Shift-JIS (which
/// UTF-8 sequences such as "€" do) in Kanji mode, and scanners then decode
/// them as Japanese. ASCII cannot trigger that, so only non-ASCII payloads
/// come here.
fn encode_bytes_only(data: &[u8]) -> Result<QrCode, QrError> {
    for version in 1..=40 {
        let mut bits = Bits::new(Version::Normal(version));
        if bits.push_byte_data(data).is_ok() && bits.push_terminator(EC_LEVEL).is_ok() {
            return QrCode::with_bits(bits, EC_LEVEL);
        }
    }
    Err(QrError::DataTooLong)
}

/// Escapes text for an XML attribute or element.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `payload` as an `<svg>` element to inline in HTML.
///
/// No XML prolog (it is not allowed inside HTML); a `viewBox` in module units
/// and no width or height, so CSS sizes it and it scales without blur;
/// `shape-rendering="crispEdges"` so edges are not anti-aliased; a white
/// background so the quiet zone survives a dark page; `role="img"` with
/// `aria_label` (also as `<title>`, shown on hover) for screen readers.
pub fn render_svg(payload: &str, aria_label: &str) -> Result<String, RenderError> {
    let code = encode(payload)?;
    let mut svg = String::new();
    write_svg(&mut svg, &code, &escape_xml(aria_label))
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(svg)
}

fn write_svg(out: &mut String, code: &QrCode, label: &str) -> std::fmt::Result {
    let width = code.width();
    let size = width + 2 * QUIET_ZONE;
    let colors = code.to_colors();
    write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img" aria-label="{label}"><title>{label}</title><rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d=""##
    )?;
    // One rectangle per horizontal run of dark modules: far fewer path
    // commands than one square per module.
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] == Color::Dark {
                let start = x;
                while x < width && row[x] == Color::Dark {
                    x += 1;
                }
                let run = x - start;
                write!(
                    out,
                    "M{} {}h{run}v1h-{run}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE
                )?;
            } else {
                x += 1;
            }
        }
    }
    out.push_str(r#""/></svg>"#);
    Ok(())
}

/// Renders `payload` as an 8-bit grayscale PNG, [`PNG_MODULE_PX`] pixels per
/// module, quiet zone included.
pub fn render_png(payload: &str) -> Result<Vec<u8>, RenderError> {
    let code = encode(payload)?;
    let image = code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .build();
    let mut png = Vec::new();
    // Fixed encoder settings, so the same payload always gives the same bytes.
    PngEncoder::new_with_quality(&mut png, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| RenderError::Encode(e.to_string()))?;
    Ok(png)
}

/// Bounds of each of the renderer's two caches (SVG and PNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    pub max_entries: usize,
    /// Sum of key and value sizes. A rendering larger than this on its own
    /// is returned but not cached.
    pub max_bytes: usize,
}

impl Default for CacheLimits {
    /// 512 entries or 8 MiB per cache: a PI-SPI code is a few KiB as PNG and
    /// as SVG, so this keeps hundreds of sessions' codes for at most 16 MiB.
    fn default() -> Self {
        CacheLimits {
            max_entries: 512,
            max_bytes: 8 << 20,
        }
    }
}

struct Slot<V> {
    value: V,
    weight: usize,
    tick: u64,
}

/// A least-recently-used map bounded by entry count and total weight.
///
/// `order` maps each entry's last-use tick to its key, so the oldest entry
/// is the first one; both maps change together under the renderer's mutex.
struct Lru<V> {
    map: HashMap<Box<str>, Slot<V>>,
    order: BTreeMap<u64, Box<str>>,
    tick: u64,
    bytes: usize,
    limits: CacheLimits,
}

impl<V: Clone> Lru<V> {
    fn new(limits: CacheLimits) -> Self {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            limits,
        }
    }

    fn get(&mut self, key: &str) -> Option<V> {
        let slot = self.map.get_mut(key)?;
        self.tick += 1;
        if let Some(owned_key) = self.order.remove(&slot.tick) {
            self.order.insert(self.tick, owned_key);
        }
        slot.tick = self.tick;
        Some(slot.value.clone())
    }

    fn insert(&mut self, key: &str, value: V, value_bytes: usize) {
        let weight = key.len() + value_bytes;
        if weight > self.limits.max_bytes || self.limits.max_entries == 0 {
            return;
        }
        self.remove(key);
        while self.map.len() >= self.limits.max_entries
            || self.bytes + weight > self.limits.max_bytes
        {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(slot) = self.map.remove(&oldest) {
                self.bytes -= slot.weight;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, key.into());
        self.map.insert(
            key.into(),
            Slot {
                value,
                weight,
                tick: self.tick,
            },
        );
        self.bytes += weight;
    }

    fn remove(&mut self, key: &str) {
        if let Some(slot) = self.map.remove(key) {
            self.order.remove(&slot.tick);
            self.bytes -= slot.weight;
        }
    }
}

/// Renders QR codes and caches the results; `Send + Sync`, meant to be
/// shared through an `Arc`.
///
/// Rendering happens outside the lock, so a slow render never blocks other
/// threads' cache hits; two threads missing on the same payload at once both
/// render it, which is harmless since the output is identical.
pub struct QrRenderer {
    svg: Mutex<Lru<Arc<str>>>,
    png: Mutex<Lru<Arc<[u8]>>>,
}

impl Default for QrRenderer {
    fn default() -> Self {
        QrRenderer::new(CacheLimits::default())
    }
}

/// A poisoned cache only means another thread panicked while holding the
/// lock; each cache operation leaves the maps consistent before anything can
/// panic, so keep serving rather than fail every later request.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl QrRenderer {
    pub fn new(limits: CacheLimits) -> Self {
        QrRenderer {
            svg: Mutex::new(Lru::new(limits)),
            png: Mutex::new(Lru::new(limits)),
        }
    }

    /// The inline `<svg>` for `payload`, see [`render_svg`].
    pub fn svg(&self, payload: &str, aria_label: &str) -> Result<Arc<str>, RenderError> {
        // The label is part of the output, so part of the key; its length
        // prefix keeps (label, payload) pairs from colliding.
        let key = format!("{}:{aria_label}{payload}", aria_label.len());
        if let Some(hit) = lock(&self.svg).get(&key) {
            return Ok(hit);
        }
        let svg: Arc<str> = render_svg(payload, aria_label)?.into();
        lock(&self.svg).insert(&key, Arc::clone(&svg), svg.len());
        Ok(svg)
    }

    /// The PNG bytes for `payload`, see [`render_png`].
    pub fn png(&self, payload: &str) -> Result<Arc<[u8]>, RenderError> {
        if let Some(hit) = lock(&self.png).get(payload) {
            return Ok(hit);
        }
        let png: Arc<[u8]> = render_png(payload)?.into();
        lock(&self.png).insert(payload, Arc::clone(&png), png.len());
        Ok(png)
    }

    /// Entries currently cached (SVG and PNG together).
    pub fn cached_entries(&self) -> usize {
        lock(&self.svg).map.len() + lock(&self.png).map.len()
    }

    /// Bytes currently cached (SVG and PNG together, keys included).
    pub fn cached_bytes(&self) -> usize {
        lock(&self.svg).bytes + lock(&self.png).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCEAO_EXAMPLE: &str = "00020136560012int.bceao.pi0136111c3e1b-4312-49ec-b75e-4c8c74c10fd7520400005303952540410005802CI5901X6001X62270516F2YG7643D5HH2023110350063049618";

    fn decode_luma(width: usize, height: usize, pixel: impl Fn(usize, usize) -> u8) -> String {
        let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1, "expected exactly one QR code");
        let (_, content) = grids[0].decode().expect("decodable QR code");
        content
    }

    fn decode_png(png: &[u8]) -> String {
        let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
            .expect("valid PNG")
            .to_luma8();
        decode_luma(image.width() as usize, image.height() as usize, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        })
    }

    /// Reads back the modules of an SVG from this module (its `M x y h w v1
    /// h-w z` runs) and decodes them, drawn at 4 px per module.
    fn decode_svg(svg: &str) -> String {
        let view_box = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
        let size: usize = view_box.split(' ').next().unwrap().parse().unwrap();
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = vec![false; size * size];
        for command in path.split('M').filter(|c| !c.is_empty()) {
            let (x, rest) = command.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let (run, _) = rest.split_once('v').unwrap();
            let (x, y, run): (usize, usize, usize) =
                (x.parse().unwrap(), y.parse().unwrap(), run.parse().unwrap());
            for cell in &mut dark[y * size + x..y * size + x + run] {
                *cell = true;
            }
        }
        const PX: usize = 4;
        decode_luma(size * PX, size * PX, |x, y| {
            if dark[(y / PX) * size + x / PX] {
                0
            } else {
                255
            }
        })
    }

    #[test]
    fn png_decodes_to_the_payload() {
        for payload in [
            BCEAO_EXAMPLE,
            "https://pay.wave.com/c/cos-1b2c3d?a=1000",
            "orangemoney://pay?merchant=42",
        ] {
            let png = render_png(payload).unwrap();
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert_eq!(decode_png(&png), payload);
        }
    }

    #[test]
    fn png_is_grayscale_with_eight_pixels_per_module() {
        let png = render_png(BCEAO_EXAMPLE).unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!(image.color(), image::ColorType::L8);
        let modules = encode(BCEAO_EXAMPLE).unwrap().width() + 2 * QUIET_ZONE;
        assert_eq!(image.width() as usize, modules * PNG_MODULE_PX as usize);
        assert_eq!(image.width(), image.height());
    }

    #[test]
    fn svg_decodes_to_the_payload() {
        let svg = render_svg(BCEAO_EXAMPLE, "PI-SPI").unwrap();
        assert_eq!(decode_svg(&svg), BCEAO_EXAMPLE);
    }

    #[test]
    fn non_ascii_payloads_stay_utf8() {
        // qrcode's optimiser would put part of "€" in Kanji mode.
        let payload = "wave://pay?note=Caf%C3%A9 €100 — Côte d'Ivoire";
        assert_eq!(decode_png(&render_png(payload).unwrap()), payload);
    }

    #[test]
    fn svg_is_inline_and_scalable() {
        let svg = render_svg(BCEAO_EXAMPLE, "Pay <with> \"PI-SPI\" & co").unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(!svg.contains("<?xml"));
        let modules = encode(BCEAO_EXAMPLE).unwrap().width() + 2 * QUIET_ZONE;
        assert!(svg.contains(&format!("viewBox=\"0 0 {modules} {modules}\"")));
        assert!(svg.contains("shape-rendering=\"crispEdges\""));
        assert!(svg.contains("role=\"img\""));
        let escaped = "Pay &lt;with&gt; &quot;PI-SPI&quot; &amp; co";
        assert!(svg.contains(&format!("aria-label=\"{escaped}\"")));
        assert!(svg.contains(&format!("<title>{escaped}</title>")));
        let open_tag = svg.split('>').next().unwrap();
        assert!(!open_tag.contains("width=") && !open_tag.contains("height="));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(
            render_png(BCEAO_EXAMPLE).unwrap(),
            render_png(BCEAO_EXAMPLE).unwrap()
        );
        assert_eq!(
            render_svg(BCEAO_EXAMPLE, "x").unwrap(),
            render_svg(BCEAO_EXAMPLE, "x").unwrap()
        );
        let renderer = QrRenderer::default();
        let first = renderer.png(BCEAO_EXAMPLE).unwrap();
        let second = renderer.png(BCEAO_EXAMPLE).unwrap();
        assert!(Arc::ptr_eq(&first, &second), "second call is a cache hit");
        assert_eq!(&*first, render_png(BCEAO_EXAMPLE).unwrap().as_slice());
        let svg = renderer.svg(BCEAO_EXAMPLE, "x").unwrap();
        assert!(Arc::ptr_eq(
            &svg,
            &renderer.svg(BCEAO_EXAMPLE, "x").unwrap()
        ));
        // A different label is a different rendering.
        assert!(!Arc::ptr_eq(
            &svg,
            &renderer.svg(BCEAO_EXAMPLE, "y").unwrap()
        ));
    }

    #[test]
    fn capacity_at_level_m() {
        assert!(fits_in_qr(&"a".repeat(2331)));
        assert!(!fits_in_qr(&"a".repeat(2332)));
        assert!(fits_in_qr(&"A".repeat(3391)));
        assert!(!fits_in_qr(&"A".repeat(3392)));
        assert!(fits_in_qr(&"7".repeat(5596)));
        assert!(!fits_in_qr(&"7".repeat(5597)));
        assert!(fits_in_qr(&"é".repeat(1165)));
        assert!(!fits_in_qr(&"é".repeat(1166)));
        assert!(!fits_in_qr(&"a".repeat(1_000_000)));
        assert!(fits_in_qr(""));
        let long = "a".repeat(2332);
        assert_eq!(render_png(&long), Err(RenderError::TooLong { bytes: 2332 }));
        assert!(QrRenderer::default().svg(&long, "x").is_err());
    }

    #[test]
    fn cache_is_bounded_by_entries() {
        let renderer = QrRenderer::new(CacheLimits {
            max_entries: 3,
            max_bytes: usize::MAX,
        });
        for i in 0..10 {
            let payload = format!("wave://pay/{i}");
            renderer.png(&payload).unwrap();
            renderer.svg(&payload, "x").unwrap();
            assert!(renderer.cached_entries() <= 6);
        }
        assert_eq!(renderer.cached_entries(), 6);
        // Least recently used goes first: touch 7, add 10, and 8 is evicted.
        let seven = renderer.png("wave://pay/7").unwrap();
        renderer.png("wave://pay/10").unwrap();
        assert!(Arc::ptr_eq(&seven, &renderer.png("wave://pay/7").unwrap()));
        let png = lock(&renderer.png);
        assert!(png.map.contains_key("wave://pay/9"));
        assert!(!png.map.contains_key("wave://pay/8"));
        assert_eq!(png.map.len(), png.order.len());
    }

    #[test]
    fn cache_is_bounded_by_bytes() {
        let one = render_png("wave://pay/0").unwrap().len() + "wave://pay/0".len();
        let limit = one * 5 / 2;
        let renderer = QrRenderer::new(CacheLimits {
            max_entries: 1000,
            max_bytes: limit,
        });
        for i in 0..20 {
            renderer.png(&format!("wave://pay/{i}")).unwrap();
            assert!(lock(&renderer.png).bytes <= limit);
        }
        let png = lock(&renderer.png);
        assert!((1..=3).contains(&png.map.len()));
        let total: usize = png.map.values().map(|s| s.weight).sum();
        assert_eq!(total, png.bytes);
        drop(png);

        // Something larger than the whole budget is served, not cached.
        let tiny = QrRenderer::new(CacheLimits {
            max_entries: 10,
            max_bytes: 16,
        });
        assert!(tiny.png(BCEAO_EXAMPLE).is_ok());
        assert_eq!(tiny.cached_entries(), 0);
        assert_eq!(tiny.cached_bytes(), 0);
    }

    #[test]
    fn renderer_is_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<QrRenderer>();

        let renderer = Arc::new(QrRenderer::new(CacheLimits {
            max_entries: 4,
            max_bytes: usize::MAX,
        }));
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let renderer = Arc::clone(&renderer);
                std::thread::spawn(move || {
                    for i in 0..8 {
                        let payload = format!("wave://pay/{}", (i + t) % 6);
                        let png = renderer.png(&payload).unwrap();
                        assert_eq!(&*png, render_png(&payload).unwrap().as_slice());
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert!(renderer.cached_entries() <= 4);
    }
}
