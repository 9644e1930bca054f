//! Texts in the language asked for: which languages a text falls back through, which way
//! each language is written, and the labels of the life domains, target groups, cost and
//! access (`seed/data/labels/`). Every answer says the language it is actually in, so a
//! front end can set `lang` and `dir` on it.

use std::collections::HashMap;

use entity::enums::{Access, Cost, TargetGroup};
use entity::{language, life_domain};

use super::Lang;

/// Which way a text runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Direction {
    #[default]
    Ltr,
    /// Arabic, Persian, Pashto, Sorani, Urdu, Hebrew…
    Rtl,
}

/// A text, the language it is in and how it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Localized {
    pub text: String,
    pub lang: Lang,
    pub direction: Direction,
    /// False for a label no speaker of its language has reviewed yet.
    pub reviewed: bool,
}

/// A value with a label of its own.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    TargetGroup(TargetGroup),
    Cost(Cost),
    Access(Access),
}

/// What the reference data knows about each answer language.
pub(super) struct Languages {
    info: HashMap<Lang, LangInfo>,
    labels: HashMap<Lang, seed::LabelSet>,
}

struct LangInfo {
    macrolanguage: Option<Lang>,
    direction: Direction,
}

/// The answer language of a reference language: its shortest ISO 639 code.
pub(super) fn lang_of(language: &language::Model) -> Option<Lang> {
    Lang::from_code(language.iso639_1.as_deref().unwrap_or(&language.code))
}

impl Languages {
    pub(super) fn new(languages: &[language::Model], labels: Vec<seed::LabelSet>) -> Self {
        // A language runs the way its name for itself runs (CLDR); without one, as its
        // macrolanguage's does.
        let written = |l: &language::Model| match unicode_bidi::get_base_direction(l.name_native.as_deref()?) {
            unicode_bidi::Direction::Rtl => Some(Direction::Rtl),
            unicode_bidi::Direction::Ltr => Some(Direction::Ltr),
            unicode_bidi::Direction::Mixed => None,
        };
        let by_code: HashMap<&str, &language::Model> = languages.iter().map(|l| (l.code.as_str(), l)).collect();
        let mut info = HashMap::new();
        for language in languages {
            let Some(lang) = lang_of(language) else { continue };
            let macro_language = language.macrolanguage_code.as_deref().and_then(|c| by_code.get(c));
            let direction = written(language)
                .or_else(|| macro_language.and_then(|m| written(m)))
                .unwrap_or(Direction::Ltr);
            info.insert(
                lang,
                LangInfo {
                    macrolanguage: macro_language.and_then(|m| lang_of(m)),
                    direction,
                },
            );
        }
        let labels = labels
            .into_iter()
            .filter_map(|set| Some((lang_of(by_code.get(set.language.as_str())?)?, set)))
            .collect();
        Languages { info, labels }
    }

    /// The languages a text asked in `lang` is looked for in: that language, its
    /// macrolanguage (Dari → Persian), then Dutch.
    pub(super) fn fallbacks(&self, lang: Lang) -> impl Iterator<Item = Lang> + use<> {
        let macro_language = self.info.get(&lang).and_then(|i| i.macrolanguage);
        std::iter::once(lang)
            .chain(macro_language)
            .chain((lang != Lang::Nl).then_some(Lang::Nl))
    }

    pub(super) fn direction(&self, lang: Lang) -> Direction {
        self.info.get(&lang).map_or(Direction::Ltr, |i| i.direction)
    }

    /// Whether labels asked in `lang` come in it or in its macrolanguage, not in Dutch.
    pub(super) fn has_labels(&self, lang: Lang) -> bool {
        let labelled = |l: &Lang| self.labels.contains_key(l);
        labelled(&lang)
            || self
                .info
                .get(&lang)
                .and_then(|i| i.macrolanguage)
                .is_some_and(|m| labelled(&m))
    }

    /// The first text `text_in` has along the fallbacks of `lang`; Dutch must have one.
    pub(super) fn localize<'t>(&self, lang: Lang, text_in: impl Fn(Lang) -> Option<(&'t str, bool)>) -> Localized {
        let (text, lang, reviewed) = self
            .fallbacks(lang)
            .find_map(|l| {
                text_in(l)
                    .filter(|(t, _)| !t.is_empty())
                    .map(|(t, reviewed)| (t, l, reviewed))
            })
            .unwrap_or(("", Lang::Nl, true));
        Localized {
            text: text.to_owned(),
            lang,
            direction: self.direction(lang),
            reviewed,
        }
    }

    pub(super) fn domain_label(&self, domain: &life_domain::Model, lang: Lang) -> Localized {
        self.localize(lang, |l| match l {
            Lang::Nl => Some((&domain.label_nl, true)),
            Lang::Fr => Some((&domain.label_fr, true)),
            Lang::En => Some((&domain.label_en, true)),
            _ => {
                let set = self.labels.get(&l)?;
                Some((set.domains.get(&domain.code)?, set.reviewed))
            }
        })
    }

    pub(super) fn value_label(&self, value: Value, lang: Lang) -> Localized {
        self.localize(lang, |l| {
            let set = self.labels.get(&l)?;
            let text = match value {
                Value::TargetGroup(v) => set.target_groups.get(&v),
                Value::Cost(v) => set.cost.get(&v),
                Value::Access(v) => set.access.get(&v),
            }?;
            Some((text, set.reviewed))
        })
    }
}
