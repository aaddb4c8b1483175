//! Two staff members (Alice and Bob, each with an OpenPGP certificate in the policy) and a researcher, all
//! with GnuPG, around one desk with a scope, out-of-scope clauses, a bounty and a hall of fame.

use super::gpg::Gpg;
use super::{Desk, Options};

pub const POLICY: &str = r#"
[openpgp]

[[scope.out_of_scope]]
id = "dos"
wording = "Denial-of-service attacks (DDoS, flood)."
hints = ["ddos", "flood"]

[[scope.out_of_scope]]
id = "sub-processor"
wording = "Our sub-processors' sites and services (Hetzner, OpenAI, Stripe, Twilio, etc.): report directly to the sub-processor concerned."
sub_processors = [{ name = "Stripe", contact = "https://stripe.com/docs/security" }]

[recognition]
hall_of_fame = true

[bounty]
enabled = true
currency = "GBP"
payment = "by card via PayPal or Stripe, on receipt of the invoice"
invoice_fields = ["your company's legally registered name", "its address", "contact information"]

[[bounty.tiers]]
id = "minor"
amount = 50
meaning = "A minor security problem"
"#;

pub struct Team {
    pub desk: Desk,
    pub alice: Gpg,
    pub bob: Gpg,
    pub researcher: Gpg,
}

pub fn team(name: &str, extra: &str) -> Team {
    team_with(name, extra, Gpg::new)
}

/// A team whose keys `make` creates (`Gpg::dated` for keys valid at any `--faked-system-time`).
pub fn team_with(name: &str, extra: &str, make: fn(&str) -> Gpg) -> Team {
    let desk = Desk::with(name, Options::default());
    let alice = make(&format!("alice-{}@example.test", desk.id));
    let bob = make(&format!("bob-{}@example.test", desk.id));
    let researcher = make(&desk.researcher(1));
    let mut toml = format!("\n[scope]\ndomains = [\"app.example.test\"]\n{POLICY}\n{extra}\n");
    for (who, g) in [("Alice", &alice), ("Bob", &bob)] {
        toml.push_str(&g.staff_member(who, desk.dir.path()));
    }
    desk.write_policy(&Options { extra: toml, ..Options::default() });
    desk.vdpd_ok(&["key", "generate"]);
    let org = desk.vdpd(&["key", "export"]).stdout;
    for g in [&alice, &bob, &researcher] {
        g.import(&org);
    }
    Team { desk, alice, bob, researcher }
}
