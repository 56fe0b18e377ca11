//! Salesforce record ids: 15 case-sensitive base-62 characters, plus a 3-character checksum
//! that makes the 18-character form case-insensitive. The emulator mints ids deterministically
//! from a counter behind the object's real key prefix, and always answers with 18 characters.
//!
//! `sfmcp_salesforce::ids` computes the same checksum for the product. This copy is kept on
//! purpose: the emulator depends on `sfmcp-soql` alone, and an independent implementation is
//! an oracle for the product's (a shared bug would pass every test).

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The "pod" characters after the key prefix. Real ids carry the instance there; a fixed
/// value keeps ids deterministic.
const POD: &str = "5g";

/// The 3 checksum characters for a 15-character id: per chunk of 5, bit i is set when
/// character i is an uppercase letter.
fn checksum(id15: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk_index, chunk) in id15.chunks(5).take(3).enumerate() {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        out[chunk_index] = CHECKSUM_ALPHABET[bits];
    }
    out
}

/// Mints the `n`th id of an object: key prefix, pod, a base-62 counter, then the checksum.
pub fn mint(key_prefix: &str, n: u64) -> String {
    let mut counter = [b'0'; 10];
    let mut rest = n;
    for slot in counter.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let mut id = String::with_capacity(18);
    id.push_str(&key_prefix[..key_prefix.len().min(3)]);
    id.push_str(POD);
    id.push_str(std::str::from_utf8(&counter).unwrap_or("0000000000"));
    let sum = checksum(id.as_bytes());
    id.extend(sum.iter().map(|&c| c as char));
    id
}

/// The canonical 18-character form of a 15- or 18-character id, or `None` when `text` is not
/// an id. An 18-character id whose first 15 characters lost their case (upper- or lower-cased
/// by some tool) gets it back from the checksum, as Salesforce does.
pub fn normalize(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if !(bytes.len() == 15 || bytes.len() == 18) || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    if bytes.len() == 15 {
        let sum = checksum(bytes);
        let mut id = text.to_string();
        id.extend(sum.iter().map(|&c| c as char));
        return Some(id);
    }
    let mut body = bytes[..15].to_vec();
    for (chunk_index, &c) in bytes[15..].iter().enumerate() {
        let bits = CHECKSUM_ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())?;
        for i in 0..5 {
            let b = &mut body[chunk_index * 5 + i];
            if b.is_ascii_alphabetic() {
                *b = if bits & (1 << i) != 0 {
                    b.to_ascii_uppercase()
                } else {
                    b.to_ascii_lowercase()
                };
            }
        }
    }
    let mut id = String::from_utf8(body).ok()?;
    let sum = checksum(id.as_bytes());
    id.extend(sum.iter().map(|&c| c as char));
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_the_published_vectors() {
        for (short, long) in [
            ("a0RE000000IJmcN", "a0RE000000IJmcNMAT"),
            ("001M000000qfPyS", "001M000000qfPySIAU"),
            ("AbCdEfGhIjKlMnO", "AbCdEfGhIjKlMnOVKV"),
            ("aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"),
        ] {
            assert_eq!(normalize(short).as_deref(), Some(long));
            assert_eq!(normalize(long).as_deref(), Some(long));
        }
    }

    #[test]
    fn case_is_restored_from_the_checksum() {
        assert_eq!(
            normalize("001M000000QFPYSIAU").as_deref(),
            Some("001M000000qfPySIAU")
        );
        assert_eq!(
            normalize("001m000000qfpysiau").as_deref(),
            Some("001M000000qfPySIAU")
        );
    }

    #[test]
    fn non_ids_are_rejected() {
        assert_eq!(normalize("23foo"), None);
        assert_eq!(normalize("001M000000qfPyS!AU"), None);
        assert_eq!(normalize(""), None);
    }

    #[test]
    fn minted_ids_are_valid_distinct_and_prefixed() {
        let a = mint("001", 1);
        let b = mint("001", 2);
        assert_ne!(a, b);
        assert_eq!(a.len(), 18);
        assert!(a.starts_with("0015g"));
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
        assert_eq!(normalize(&a[..15]).as_deref(), Some(a.as_str()));
        assert_eq!(mint("005", 62 * 62 + 5), mint("005", 62 * 62 + 5));
    }
}
