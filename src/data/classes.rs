//! A data set's classes: how many there are and what each label means.
//!
//! A label is a class number k in 0..K. K comes from the data set: a set known by name has its
//! catalog's classes and names (MNIST's ten digits, Fashion-MNIST's ten kinds of clothing); a set
//! read from files has K = its largest label + 1, each class named by its number. The network has
//! K outputs, and the model file records K and the names, so whatever reads the model prints them.
//!
//! Labels are `u16`: up to 65,536 classes, more than any integer label a data set file holds in
//! practice, at two bytes per sample.

use serde::{Deserialize, Serialize};

/// A class number as a data set stores it.
pub type Label = u16;

/// The most classes a data set may have: every value a `Label` holds.
pub const MAX_CLASSES: usize = Label::MAX as usize + 1;

/// What each class k in 0..len() means; serialized as the list of names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Classes {
    names: Vec<String>,
}

impl Classes {
    /// `count` classes named by their numbers: "0", "1", ...
    pub fn numbered(count: usize) -> Self {
        Self {
            names: (0..count).map(|k| k.to_string()).collect(),
        }
    }

    /// Classes with these names, class k named `names[k]`.
    pub fn named(names: Vec<String>) -> Self {
        Self { names }
    }

    /// As many classes as the largest of `labels` + 1, named by their numbers (none for no labels).
    pub fn counted(labels: &[Label]) -> Self {
        Self::numbered(labels.iter().max().map_or(0, |&l| usize::from(l) + 1))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of class `k`, if there is such a class.
    pub fn name(&self, k: usize) -> Option<&str> {
        self.names.get(k).map(String::as_str)
    }

    /// Whether every class is named by its own number (digits, sets read from files): then the
    /// number says all there is, and output need not repeat it as a name.
    pub fn are_numbered(&self) -> bool {
        self.names.iter().enumerate().all(|(k, name)| *name == k.to_string())
    }

    /// Class `k` for a reader: its number, followed by its name when the classes have names
    /// (`3`, or `3 Dress`).
    pub fn label(&self, k: usize) -> String {
        match self.name(k) {
            Some(name) if !self.are_numbered() => format!("{k} {name}"),
            _ => k.to_string(),
        }
    }

    /// Every class as `k=name`, or `k` alone where the name is the number, joined by commas:
    /// `0=T-shirt/top, 1=Trouser, ...`, `0, 1, 2, ...`.
    pub fn listing(&self) -> String {
        let each = self.names.iter().enumerate().map(|(k, name)| {
            if *name == k.to_string() {
                name.clone()
            } else {
                format!("{k}={name}")
            }
        });
        each.collect::<Vec<_>>().join(", ")
    }

    /// The first label that is not one of these classes, with its index.
    pub fn first_outside(&self, labels: &[Label]) -> Option<(usize, Label)> {
        labels
            .iter()
            .position(|&l| usize::from(l) >= self.len())
            .map(|i| (i, labels[i]))
    }

    /// The classes none of `labels` has, in order.
    pub fn without_samples(&self, labels: &[Label]) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        for &l in labels {
            if let Some(s) = seen.get_mut(usize::from(l)) {
                *s = true;
            }
        }
        (0..self.len()).filter(|&k| !seen[k]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_classes_run_to_the_largest_label_and_name_themselves() {
        let classes = Classes::counted(&[3, 0, 19, 4]);
        assert_eq!(classes.len(), 20);
        assert!(classes.are_numbered());
        assert_eq!((classes.name(19), classes.name(20)), (Some("19"), None));
        assert_eq!(classes.label(7), "7");
        assert_eq!(classes.without_samples(&[3, 0, 19, 4]).len(), 16);
        assert_eq!(Classes::counted(&[]).len(), 0);
        assert_eq!(Classes::counted(&[Label::MAX]).len(), MAX_CLASSES);
    }

    #[test]
    fn named_classes_are_labelled_with_number_and_name() {
        let classes = Classes::named(vec!["cat".into(), "dog".into()]);
        assert!(!classes.are_numbered());
        assert_eq!(classes.label(1), "1 dog");
        assert_eq!(classes.listing(), "0=cat, 1=dog");
        assert_eq!(Classes::numbered(3).listing(), "0, 1, 2");
        assert_eq!(classes.first_outside(&[0, 1, 1, 2, 5]), Some((3, 2)));
        assert_eq!(classes.first_outside(&[1, 0]), None);
        assert_eq!(classes.without_samples(&[1, 1]), vec![0]);
        assert_eq!(serde_json::to_string(&classes).unwrap(), r#"["cat","dog"]"#);
    }
}
