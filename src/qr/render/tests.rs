//! Rendered codes decode back to their payload, the same payload always gives the same bytes,
//! and the cache stays within its bounds.

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
