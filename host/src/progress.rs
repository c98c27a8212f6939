//! Progress bars of the offline commands (`kinerja import`, `kinerja audit verify`).

/// A bar on stderr with `template` (indicatif's syntax), hidden with `--quiet`. It draws only
/// when stderr is a terminal, so logs and CI output stay clean.
pub fn bar(total: u64, quiet: bool, template: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
