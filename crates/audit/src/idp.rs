//! Each IdP's account status, normalised to [`IdpStatus`].
//!
//! | canonical | Okta | Entra | Google | JumpCloud | OneLogin |
//! |---|---|---|---|---|---|
//! | active | ACTIVE, RECOVERY, PASSWORD_EXPIRED | accountEnabled | !suspended && !archived | ACTIVATED | status 1, 4, 5, 8 |
//! | locked | LOCKED_OUT | — | — | account_locked | status 3 |
//! | pending | STAGED, PROVISIONED | — | — | STAGED | status 0, 7; state 0 |
//! | suspended | SUSPENDED | !accountEnabled | suspended | SUSPENDED | status 2; state 2, 3 |
//! | deprovisioned | DEPROVISIONED | in deletedItems | deleted or archived | — | — |
//! | unknown | any other status | — | — | any other state | any other status |
//! | absent | not listed | not listed | not listed | not listed (deleted users vanish) | not listed |
//!
//! Okta's plain user list omits DEPROVISIONED accounts, so its collector must also search for
//! them; JumpCloud and OneLogin delete users outright, which reads as absent.

use super::model::IdpStatus;

/// Okta `status`. Unknown values are `None`, never a guess: the collector records them as
/// [`IdpStatus::Unknown`] and the report's notes name them.
pub fn okta_status(status: &str) -> Option<IdpStatus> {
    Some(match status.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" | "RECOVERY" | "PASSWORD_EXPIRED" => IdpStatus::Active,
        "LOCKED_OUT" => IdpStatus::Locked,
        "STAGED" | "PROVISIONED" => IdpStatus::Pending,
        "SUSPENDED" => IdpStatus::Suspended,
        "DEPROVISIONED" => IdpStatus::Deprovisioned,
        _ => return None,
    })
}

/// Entra ID: `accountEnabled`, and whether the user was found under `deletedItems`.
pub fn entra_status(account_enabled: bool, in_deleted_items: bool) -> IdpStatus {
    if in_deleted_items {
        IdpStatus::Deprovisioned
    } else if account_enabled {
        IdpStatus::Active
    } else {
        IdpStatus::Suspended
    }
}

/// Google Workspace: `suspended`, `archived`, and `deleted` (seen with `showDeleted=true`).
/// An archived user is a retained ex-employee licence, hence deprovisioned.
pub fn google_status(suspended: bool, archived: bool, deleted: bool) -> IdpStatus {
    if deleted || archived {
        IdpStatus::Deprovisioned
    } else if suspended {
        IdpStatus::Suspended
    } else {
        IdpStatus::Active
    }
}

/// JumpCloud `state` (STAGED / ACTIVATED / SUSPENDED) with the `suspended` and
/// `account_locked` booleans, which can be set while `state` still says ACTIVATED.
pub fn jumpcloud_status(state: &str, suspended: bool, account_locked: bool) -> Option<IdpStatus> {
    let base = match state.trim().to_ascii_uppercase().as_str() {
        "ACTIVATED" => IdpStatus::Active,
        "STAGED" => IdpStatus::Pending,
        "SUSPENDED" => IdpStatus::Suspended,
        _ => return None,
    };
    Some(if suspended {
        IdpStatus::Suspended
    } else if account_locked && base == IdpStatus::Active {
        IdpStatus::Locked
    } else {
        base
    })
}

/// OneLogin numeric `status` and optional `state`.
pub fn onelogin_status(status: i64, state: Option<i64>) -> Option<IdpStatus> {
    match state {
        Some(2) | Some(3) => return Some(IdpStatus::Suspended),
        Some(0) => return Some(IdpStatus::Pending),
        _ => {}
    }
    Some(match status {
        1 | 4 | 5 | 8 => IdpStatus::Active,
        3 => IdpStatus::Locked,
        0 | 7 => IdpStatus::Pending,
        2 => IdpStatus::Suspended,
        _ => return None,
    })
}

/// A file export's `status` column: the canonical names, plus the common words HR and IdP
/// exports use for them. `absent` is refused: a person the IdP does not know is simply not in
/// the file.
pub fn file_status(status: &str) -> Option<IdpStatus> {
    Some(
        match status
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "active" | "enabled" | "activated" => IdpStatus::Active,
            "locked" | "locked_out" => IdpStatus::Locked,
            "pending" | "staged" | "provisioned" | "invited" => IdpStatus::Pending,
            "suspended" | "disabled" | "inactive" => IdpStatus::Suspended,
            "deprovisioned" | "deleted" | "archived" | "terminated" => IdpStatus::Deprovisioned,
            _ => return None,
        },
    )
}

/// The words [`file_status`] accepts, for error messages.
pub const FILE_STATUS_WORDS: &str = "active|enabled, locked, pending|staged|provisioned|invited, \
     suspended|disabled|inactive, deprovisioned|deleted|archived|terminated";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_statuses_follow_the_table() {
        assert_eq!(okta_status("ACTIVE"), Some(IdpStatus::Active));
        assert_eq!(okta_status("PASSWORD_EXPIRED"), Some(IdpStatus::Active));
        assert_eq!(okta_status("RECOVERY"), Some(IdpStatus::Active));
        assert_eq!(okta_status("LOCKED_OUT"), Some(IdpStatus::Locked));
        assert_eq!(okta_status("STAGED"), Some(IdpStatus::Pending));
        assert_eq!(okta_status("PROVISIONED"), Some(IdpStatus::Pending));
        assert_eq!(okta_status("SUSPENDED"), Some(IdpStatus::Suspended));
        assert_eq!(okta_status("DEPROVISIONED"), Some(IdpStatus::Deprovisioned));
        assert_eq!(okta_status("GONE"), None);
    }

    #[test]
    fn entra_and_google_booleans_map_as_documented() {
        assert_eq!(entra_status(true, false), IdpStatus::Active);
        assert_eq!(entra_status(false, false), IdpStatus::Suspended);
        assert_eq!(entra_status(true, true), IdpStatus::Deprovisioned);
        assert_eq!(google_status(false, false, false), IdpStatus::Active);
        assert_eq!(google_status(true, false, false), IdpStatus::Suspended);
        assert_eq!(google_status(false, true, false), IdpStatus::Deprovisioned);
        assert_eq!(google_status(true, false, true), IdpStatus::Deprovisioned);
    }

    #[test]
    fn jumpcloud_booleans_override_an_activated_state() {
        assert_eq!(
            jumpcloud_status("ACTIVATED", false, false),
            Some(IdpStatus::Active)
        );
        assert_eq!(
            jumpcloud_status("ACTIVATED", true, false),
            Some(IdpStatus::Suspended)
        );
        assert_eq!(
            jumpcloud_status("ACTIVATED", false, true),
            Some(IdpStatus::Locked)
        );
        assert_eq!(
            jumpcloud_status("STAGED", false, false),
            Some(IdpStatus::Pending)
        );
        assert_eq!(
            jumpcloud_status("SUSPENDED", false, false),
            Some(IdpStatus::Suspended)
        );
        assert_eq!(jumpcloud_status("DELETED", false, false), None);
    }

    #[test]
    fn onelogin_codes_and_states_map_as_documented() {
        for s in [1, 4, 5, 8] {
            assert_eq!(onelogin_status(s, Some(1)), Some(IdpStatus::Active));
        }
        assert_eq!(onelogin_status(3, None), Some(IdpStatus::Locked));
        assert_eq!(onelogin_status(0, None), Some(IdpStatus::Pending));
        assert_eq!(onelogin_status(7, None), Some(IdpStatus::Pending));
        assert_eq!(onelogin_status(2, None), Some(IdpStatus::Suspended));
        assert_eq!(onelogin_status(1, Some(3)), Some(IdpStatus::Suspended));
        assert_eq!(onelogin_status(1, Some(0)), Some(IdpStatus::Pending));
        assert_eq!(onelogin_status(6, None), None);
    }

    #[test]
    fn file_status_accepts_synonyms_and_refuses_absent() {
        assert_eq!(file_status(" Active "), Some(IdpStatus::Active));
        assert_eq!(file_status("LOCKED-OUT"), Some(IdpStatus::Locked));
        assert_eq!(file_status("disabled"), Some(IdpStatus::Suspended));
        assert_eq!(file_status("Deleted"), Some(IdpStatus::Deprovisioned));
        assert_eq!(file_status("absent"), None);
        assert_eq!(file_status(""), None);
    }
}
