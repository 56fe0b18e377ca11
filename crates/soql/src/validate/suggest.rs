//! "Did you mean" ranking: candidates scored against what the user typed, by API name and by
//! label, so `Industy` finds `Industry` and `AccountName` finds the field labelled
//! "Account Name".

/// At most this many suggestions go with an error: more is noise for a model or a person.
const MAX_SUGGESTIONS: usize = 3;

/// Collects candidates and keeps the closest.
pub(super) struct Suggestions {
    /// What was typed, normalized.
    typed: String,
    scored: Vec<(usize, String)>,
}

impl Suggestions {
    pub(super) fn new(typed: &str) -> Self {
        Self {
            typed: normalize(typed),
            scored: Vec::new(),
        }
    }

    /// Offers `suggestion` when any of `names` (API name, label...) is close to what was typed.
    pub(super) fn offer(&mut self, suggestion: &str, names: &[&str]) {
        if let Some(distance) = closeness(&self.typed, names) {
            self.scored.push((distance, suggestion.to_string()));
        }
    }

    /// Offers `suggestion` outright with the given score (0 is an exact match).
    pub(super) fn offer_scored(&mut self, suggestion: String, score: usize) {
        self.scored.push((score, suggestion));
    }

    /// The best few, closest first; ties in alphabetical order so output is stable.
    pub(super) fn finish(mut self) -> Vec<String> {
        self.scored.sort();
        let mut out: Vec<String> = Vec::new();
        for (_, suggestion) in self.scored {
            if !out.iter().any(|s| s.eq_ignore_ascii_case(&suggestion)) {
                out.push(suggestion);
            }
            if out.len() == MAX_SUGGESTIONS {
                break;
            }
        }
        out
    }
}

/// The edit distance from `typed` (normalized) to the closest of `names`, when it is close
/// enough to be worth offering: a third of the typed length, at least one edit (`Industy`
/// allows 2, `Nme` allows 1).
pub(super) fn closeness(typed: &str, names: &[&str]) -> Option<usize> {
    let threshold = (typed.chars().count() / 3).max(1);
    names
        .iter()
        .map(|name| strsim::osa_distance(typed, &normalize(name)))
        .min()
        .filter(|&distance| distance <= threshold)
}

/// Lower case without spaces, underscores or punctuation: labels ("Account Name") and API names
/// (`Account_Name__c`) then compare on their letters.
pub(super) fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_distance_then_name() {
        let mut s = Suggestions::new("Industy");
        s.offer("Industry", &["Industry"]);
        s.offer("Website", &["Website"]);
        s.offer("Industries", &["Industries"]);
        s.offer("Indust", &["Indust"]);
        // Industries is three edits away: too far for a seven-letter name.
        assert_eq!(s.finish(), vec!["Indust", "Industry"]);
    }

    #[test]
    fn labels_match_without_spaces_or_case() {
        let mut s = Suggestions::new("accountname");
        s.offer("Name", &["Name", "Account Name"]);
        assert_eq!(s.finish(), vec!["Name"]);
    }

    #[test]
    fn far_names_are_not_offered() {
        let mut s = Suggestions::new("Foo");
        s.offer("Name", &["Name", "Account Name"]);
        assert!(s.finish().is_empty());
    }

    #[test]
    fn picklist_values_match_by_letters_then_spelling_then_containment() {
        let stages = [
            ("Prospecting", None),
            ("Closed Won", None),
            ("Closed Lost", None),
        ];
        let similar = |typed: &str| super::super::similar_values(typed, stages);
        assert_eq!(similar("Closed-Won"), ["Closed Won", "Closed Lost"]);
        assert_eq!(similar("closed won")[0], "Closed Won");
        assert_eq!(similar("Prospectng"), ["Prospecting"]);
        let statuses = [
            ("Open - Not Contacted", None),
            ("Working - Contacted", Some("Working")),
            ("Closed - Converted", None),
        ];
        assert_eq!(
            super::super::similar_values("working", statuses),
            ["Working - Contacted"]
        );
        assert_eq!(
            super::super::similar_values("Contacted", statuses),
            ["Open - Not Contacted", "Working - Contacted"]
        );
        assert!(super::super::similar_values("zz", statuses).is_empty());
    }
}
