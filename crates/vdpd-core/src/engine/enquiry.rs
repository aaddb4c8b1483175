//! Status enquiries: the "any update?" mail a researcher sends while a ticket is open.
//!
//! A policy may answer them automatically and throttle them ("please limit this to no more than once every
//! 14 days"). Answering a real message with a canned status would be worse than not answering, so the test is
//! strict: the researcher's own words (quotes and signature removed) are short, bring nothing new (no form
//! section, no link, no vector, no file, no key, no words that announce more findings), and ask for news in
//! one of the ways people do. Anything else is ordinary correspondence for staff.

use crate::classify::Inbound;
use crate::config::FormSection;
use crate::form;

/// The most characters of the researcher's own words an enquiry may have.
pub const MAX_CHARS: usize = 400;
/// The most non-empty lines (greeting, question, thanks, name).
const MAX_LINES: usize = 7;

/// Ways of asking for news, lower-case, matched as whole words: English, then French, German and Spanish
/// (researchers write in their own language; the policy's answer is the same).
const ASKING: &[&str] = &[
    "any update",
    "any updates",
    "an update",
    "status update",
    "update on",
    "updates on",
    "status of",
    "the status",
    "current status",
    "any news",
    "news on",
    "any progress",
    "progress on",
    "heard back",
    "hear back",
    "following up",
    "follow up",
    "follow-up",
    "checking in",
    "check in",
    "just checking",
    "eta",
    "is it fixed",
    "been fixed",
    "fixed yet",
    "been resolved",
    "resolved yet",
    "still open",
    "any word",
    "where are we",
    "where things stand",
    // French
    "des nouvelles",
    "du nouveau",
    "une mise à jour",
    "mise à jour sur",
    "où en est",
    "où en êtes-vous",
    "où en sommes-nous",
    "état d'avancement",
    "avancement de",
    "le statut",
    "statut de",
    "est-ce corrigé",
    "déjà corrigé",
    "été corrigé",
    "toujours ouvert",
    "je me permets de relancer",
    "je relance",
    // German
    "neuigkeiten",
    "ein update",
    "update zu",
    "stand der dinge",
    "aktueller stand",
    "aktuellen stand",
    "wie ist der stand",
    "der status",
    "den status",
    "schon behoben",
    "bereits behoben",
    "wurde behoben",
    "noch offen",
    "nachfragen",
    "nachhaken",
    // Spanish
    "alguna novedad",
    "novedades",
    "alguna actualización",
    "una actualización",
    "actualización sobre",
    "el estado",
    "estado de",
    "cómo va",
    "ya está corregido",
    "sido corregido",
    "sigue abierto",
    "hacer seguimiento",
];

/// Words that announce new content: such a mail goes to staff as correspondence, never gets a canned status.
const NEW_CONTENT: &[&str] = &[
    "also found",
    "another issue",
    "another vulnerability",
    "another bug",
    "new issue",
    "new vulnerability",
    "additional",
    "additionally",
    "in addition",
    "attached",
    "steps to reproduce",
    "proof of concept",
    "poc",
    "payload",
    "exploit",
    "bypass",
    "cve-",
    "cwe-",
    "cvss",
    "disclose",
    "disclosure",
    "publish",
    "invoice",
    "bounty",
    "credit",
    // French
    "également trouvé",
    "aussi trouvé",
    "autre vulnérabilité",
    "nouvelle vulnérabilité",
    "autre faille",
    "en pièce jointe",
    "ci-joint",
    "étapes pour reproduire",
    "preuve de concept",
    "divulgation",
    "publier",
    "facture",
    "prime",
    "crédit",
    // German
    "auch gefunden",
    "weitere schwachstelle",
    "neue schwachstelle",
    "im anhang",
    "anbei",
    "schritte zur reproduktion",
    "veröffentlichen",
    "veröffentlichung",
    "rechnung",
    "prämie",
    // Spanish
    "también encontré",
    "otra vulnerabilidad",
    "nueva vulnerabilidad",
    "adjunto",
    "pasos para reproducir",
    "prueba de concepto",
    "divulgación",
    "publicar",
    "factura",
    "recompensa",
];

/// Whether a researcher's mail only asks for news.
pub fn is_status_enquiry(inbound: &Inbound, sections: &[FormSection], prefix: &str) -> bool {
    // A key sent along as a file or pasted is news; the Autocrypt header many clients add to every mail is not.
    let sent_a_key = inbound
        .body
        .keys
        .iter()
        .chain(&inbound.outside.keys)
        .any(|k| k.source != crate::classify::pgp::KeySource::Autocrypt);
    // A partly signed mail (text beside a signed block) is for a person to read too.
    let partly = !inbound.outside.text.trim().is_empty();
    if inbound.all_attachments().next().is_some() || sent_a_key || partly || inbound.crypto.error.is_some() {
        return false;
    }
    let own = super::staff::strip_quotes_and_signature(&inbound.body.text);
    if own.chars().count() > MAX_CHARS || own.lines().filter(|l| !l.trim().is_empty()).count() > MAX_LINES {
        return false;
    }
    if own.contains("://") || own.contains("-----BEGIN") || form::parse(&own, sections).attempted() {
        return false;
    }
    let subject = crate::mailtext::base_subject(&inbound.subject, prefix).to_lowercase();
    let own = own.to_lowercase();
    if NEW_CONTENT.iter().any(|w| has_words(&own, w)) {
        return false;
    }
    ASKING.iter().any(|w| has_words(&own, w) || has_words(&subject, w))
}

/// `phrase` occurs in `text` with word boundaries on both sides.
fn has_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + phrase.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ReportForm;

    fn mail(subject: &str, text: &str) -> Inbound {
        Inbound {
            message_id: Some("<m@research.test>".into()),
            sender_name: "Alice".into(),
            ..Inbound::for_tests("alice@research.test", subject, text)
        }
    }

    fn enquiry(subject: &str, text: &str) -> bool {
        is_status_enquiry(&mail(subject, text), &ReportForm::default_sections(), "EX")
    }

    #[test]
    fn asking_for_news_is_an_enquiry() {
        let yes = [
            ("Re: [EX-2026-0001] XSS in login", "Hi,\n\nany update on this?\n\nThanks,\nAlice"),
            ("Re: [EX-2026-0001] XSS in login", "Hello, just checking in. Has it been fixed yet?"),
            ("Any news? [EX-2026-0001]", "Thanks!"),
            ("Re: [EX-2026-0001] XSS", "What is the current status of my report?\n\n-- \nAlice\nhttps://alice.example"),
            (
                "Re: [EX-2026-0001] XSS",
                "Following up on my report.\n\nOn Mon, 23 Nov 2026, Security wrote:\n> We are looking at it.\n> https://example.test/policy",
            ),
            ("[EX-2026-0001] status", "Is there an ETA for the fix?"),
        ];
        for (subject, text) in yes {
            assert!(enquiry(subject, text), "{subject:?} / {text:?} should be a status enquiry");
        }
    }

    #[test]
    fn anything_new_is_correspondence() {
        let no = [
            // No question for news at all.
            ("Re: [EX-2026-0001] XSS in login", "Thanks for the quick answer!"),
            // New findings, links, vectors, form answers.
            ("Re: [EX-2026-0001] XSS", "Any update? Also found the same bug on the search page."),
            ("Re: [EX-2026-0001] XSS", "Any update? It works at https://app.example.test/search?q=<script> too"),
            ("Re: [EX-2026-0001] XSS", "Any update? The CVSS is CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"),
            ("Re: [EX-2026-0001] XSS", "Steps to reproduce: open the page\nAny update?"),
            ("Re: [EX-2026-0001] XSS", "Any update? I plan to publish my write-up next month."),
            ("Re: [EX-2026-0001] XSS", "Any update? And where do I send the invoice for the bounty?"),
            // Long mails are for a person to read.
            ("Re: [EX-2026-0001] XSS", &format!("Any update?\n{}", "I looked further into it. ".repeat(20))),
            // "eta" inside another word is not a question.
            ("Re: [EX-2026-0001] XSS", "The metadata endpoint leaks tokens."),
        ];
        for (subject, text) in no {
            assert!(!enquiry(subject, text), "{subject:?} / {text:?} should not be a status enquiry");
        }
    }

    /// French, German and Spanish enquiries are answered like English ones; news in those languages is
    /// correspondence, as in English.
    #[test]
    fn enquiries_in_french_german_and_spanish() {
        let yes = [
            ("Re: [EX-2026-0001] XSS", "Bonjour,\n\navez-vous des nouvelles de mon signalement ?\n\nMerci,\nAlice"),
            ("Re: [EX-2026-0001] XSS", "Bonjour, où en est la correction ? Merci."),
            ("Re: [EX-2026-0001] XSS", "Hallo,\ngibt es Neuigkeiten zu meiner Meldung?\nDanke"),
            ("Re: [EX-2026-0001] XSS", "Wie ist der Stand? Wurde die Lücke schon behoben?"),
            ("Re: [EX-2026-0001] XSS", "Hola, ¿alguna novedad sobre mi reporte?\nGracias"),
            ("Re: [EX-2026-0001] XSS", "¿Cuál es el estado de la corrección?"),
        ];
        for (subject, text) in yes {
            assert!(enquiry(subject, text), "{text:?} should be a status enquiry");
        }
        let no = [
            ("Re: [EX-2026-0001] XSS", "Des nouvelles ? J'ai aussi trouvé la même faille sur la recherche."),
            ("Re: [EX-2026-0001] XSS", "Gibt es Neuigkeiten? Ich möchte meinen Bericht bald veröffentlichen."),
            ("Re: [EX-2026-0001] XSS", "¿Alguna novedad? Adjunto otra prueba de concepto."),
            ("Re: [EX-2026-0001] XSS", "Merci pour la réponse rapide !"),
        ];
        for (subject, text) in no {
            assert!(!enquiry(subject, text), "{text:?} should not be a status enquiry");
        }
    }

    #[test]
    fn files_and_keys_are_content() {
        let mut m = mail("Re: [EX-2026-0001] XSS", "Any update?");
        m.body.attachments.push(crate::classify::Attachment {
            name: "poc.html".into(),
            content_type: "text/html".into(),
            data: b"<script>".to_vec(),
        });
        assert!(!is_status_enquiry(&m, &ReportForm::default_sections(), "EX"));
    }
}
