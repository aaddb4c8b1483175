//! `vdpd security-txt` and `vdpd hall-of-fame`: the public artefacts of the programme, from the policy.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Exit, load_config};
use crate::cli::HallOfFameFormat;
use crate::publish;
use crate::render::Templates;
use crate::store::tickets;

/// Writes `data` to `output` (atomically: a temporary file renamed over it, so a web server never serves half a
/// file) or to standard output.
fn emit(data: &[u8], output: Option<&Path>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let tmp = dir.join(format!(".{}.vdpd-tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("out")));
            std::fs::write(&tmp, data)?;
            std::fs::rename(&tmp, path)?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().write_all(data)?,
    }
    Ok(())
}

pub fn security_txt(
    config_path: &Path,
    sign: bool,
    output: Option<PathBuf>,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let now = now.unwrap_or_else(jiff::Timestamp::now);
    let key = match &config.openpgp {
        Some(o) if o.key.exists() || sign => {
            Some(crate::openpgp::keys::load(&o.key, &config.organisation.security_address)?)
        }
        _ => None,
    };
    if sign && key.is_none() {
        return Err(Exit {
            code: super::exit::CONFIG,
            message: "--sign needs the organisation key: add [openpgp] and run `vdpd key generate`".into(),
        }
        .into());
    }
    let templates = Templates::load_for(&config.templates)?;
    let text = publish::security_txt(
        &config,
        templates.languages(),
        key.as_ref().map(|k| k.fingerprint()).as_deref(),
        now.as_millisecond(),
    );
    let data = match (&key, sign) {
        (Some(k), true) => crate::openpgp::write::clearsign(text.as_bytes(), k, std::time::SystemTime::now())?,
        _ => text.into_bytes(),
    };
    emit(&data, output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

pub fn hall_of_fame(config_path: &Path, format: HallOfFameFormat, output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    if !config.recognition.hall_of_fame {
        return Err(Exit {
            code: 1,
            message: "the policy has no hall of fame ([recognition] hall_of_fame = false)".into(),
        }
        .into());
    }
    let store = super::open_existing_store(&config)?;
    let rows = tickets::credited(store.conn())?;
    let hof = publish::hall_of_fame(&config, &rows);
    let templates = Templates::load_for(&config.templates)?;
    let name = match format {
        HallOfFameFormat::Html => "hall_of_fame.html",
        HallOfFameFormat::Md => "hall_of_fame.md",
    };
    emit(templates.render(name, &hof)?.as_bytes(), output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
