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

pub(crate) fn encode(payload: &str) -> Result<QrCode, RenderError> {
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
pub(crate) struct Lru<V> {
    map: HashMap<Box<str>, Slot<V>>,
    order: BTreeMap<u64, Box<str>>,
    tick: u64,
    bytes: usize,
    limits: CacheLimits,
}

impl<V: Clone> Lru<V> {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            limits,
        }
    }

    pub(crate) fn get(&mut self, key: &str) -> Option<V> {
        let slot = self.map.get_mut(key)?;
        self.tick += 1;
        if let Some(owned_key) = self.order.remove(&slot.tick) {
            self.order.insert(self.tick, owned_key);
        }
        slot.tick = self.tick;
        Some(slot.value.clone())
    }

    pub(crate) fn insert(&mut self, key: &str, value: V, value_bytes: usize) {
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
mod tests;
