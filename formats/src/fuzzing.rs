//! Property checks of the formats shared by the cargo-fuzz targets (`fuzz/`: `status_decode`,
//! `control_bytes`, `tai64n_parse`) and the corpus-replay test that the test command runs, so
//! both exercise exactly the same code. Each function panics when a property fails; it must
//! never panic otherwise, whatever the input.

use crate::control::Command;
use crate::status::{Status, DAEMONTOOLS_LEN, RUNIT_LEN};
use crate::tai64n::Tai64n;

/// Status records: decoding never panics, accepts exactly the 18- and 20-byte sizes, and a
/// decoded record encodes back to the same bytes (up to the 0/1 normalisation of the flags).
pub fn status_decode(data: &[u8]) {
    match Status::decode(data) {
        None => assert!(data.len() != RUNIT_LEN && data.len() != DAEMONTOOLS_LEN),
        Some(st) => {
            let enc = st.encode();
            assert_eq!(&enc[..16], &data[..16]);
            assert_eq!(enc[16], (data[16] != 0) as u8);
            assert_eq!(enc[17], data[17]);
            if data.len() == RUNIT_LEN {
                assert_eq!(enc[18], (data[18] != 0) as u8);
                assert_eq!(enc[19], data[19]);
            }
            assert_eq!(Status::decode(&enc), Some(st));
        }
    }
}

/// Control bytes: every byte either decodes to a command that encodes back to it, or is
/// ignored; only the pure signal commands carry a signal.
pub fn control_bytes(data: &[u8]) {
    for &b in data {
        if let Some(c) = Command::from_byte(b) {
            assert_eq!(c.byte(), b);
            let is_signal = !matches!(
                c,
                Command::Up | Command::Down | Command::Once | Command::Exit
            );
            assert_eq!(c.signal().is_some(), is_signal);
        }
    }
}

/// TAI64N text: parsing never panics, and whatever parses renders back to the same digits
/// (lowercased); packing round-trips.
pub fn tai64n_parse(data: &[u8]) {
    let text = data.strip_prefix(b"@").unwrap_or(data);
    if let Some(t) = Tai64n::parse_hex(text) {
        assert_eq!(t.to_hex().as_bytes(), text.to_ascii_lowercase().as_slice());
        assert_eq!(Tai64n::unpack(&t.pack()), t);
    }
    if data.len() >= 12 {
        let mut b = [0u8; 12];
        b.copy_from_slice(&data[..12]);
        assert_eq!(Tai64n::unpack(&b).pack(), b);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::status_decode(&[0u8; 20]);
        super::status_decode(&[0xffu8; 18]);
        super::status_decode(b"short");
        super::control_bytes(b"udoxtkpchaiq12es\n");
        super::tai64n_parse(b"@400000006b0337972f6e0954");
        super::tai64n_parse(b"400000006B0337972F6E0954");
    }
}
