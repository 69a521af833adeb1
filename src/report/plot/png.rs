//! PNG encoding with fixed settings.

pub(super) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = ::png::Encoder::new(&mut out, width, height);
        encoder.set_color(::png::ColorType::Rgb);
        encoder.set_depth(::png::BitDepth::Eight);
        // Fixed settings, so the bytes do not depend on a library default.
        encoder.set_compression(::png::Compression::Balanced);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(rgb).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
    }
    Ok(out)
}

fn png_error(e: ::png::EncodingError) -> String {
    format!("PNG encoding failed: {e}")
}
