//! The languages an answer can be asked in: every language of the reference list
//! (`seed/data/languages.json`), each named by its shortest ISO 639 code (`AR`, `PRS` for
//! Dari). Labels exist in some of them; every text falls back per field and says which
//! language it is in (`LocalizedText`). A test keeps this list in step with the reference list.

use async_graphql::Enum;

macro_rules! langs {
    ($($(#[$attr:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        /// The language an answer's labels and texts are asked in. Dutch is the default and
        /// the last fallback.
        #[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub enum Lang {
            $($(#[$attr])* #[doc = $name] $variant,)*
        }

        impl Lang {
            /// Every language, in the reference list's order (by ISO 639-3 code).
            pub const ALL: &[Lang] = &[$(Lang::$variant,)*];

            /// The shortest ISO 639 code, lower case: `ar`, `prs`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Lang::$variant => $code,)*
                }
            }
        }
    };
}

langs! {
    Aa = "aa", "Afar";
    Ab = "ab", "Abkhazian";
    Acm = "acm", "Mesopotamian Arabic";
    Aeb = "aeb", "Tunisian Arabic";
    Afb = "afb", "Gulf Arabic";
    Af = "af", "Afrikaans";
    Ak = "ak", "Akan";
    Aln = "aln", "Gheg Albanian";
    Als = "als", "Tosk Albanian";
    Am = "am", "Amharic";
    Apc = "apc", "Levantine Arabic";
    Apd = "apd", "Sudanese Arabic";
    Ar = "ar", "Arabic";
    Arb = "arb", "Standard Arabic";
    An = "an", "Aragonese";
    Arq = "arq", "Algerian Arabic";
    Ary = "ary", "Moroccan Arabic";
    Arz = "arz", "Egyptian Arabic";
    As = "as", "Assamese";
    Av = "av", "Avaric";
    Ayl = "ayl", "Libyan Arabic";
    Ay = "ay", "Aymara";
    Ayp = "ayp", "North Mesopotamian Arabic";
    Az = "az", "Azerbaijani";
    Ba = "ba", "Bashkir";
    Bal = "bal", "Baluchi";
    Bm = "bm", "Bambara";
    Be = "be", "Belarusian";
    Bn = "bn", "Bengali";
    Bi = "bi", "Bislama";
    Bo = "bo", "Tibetan";
    Bs = "bs", "Bosnian";
    Br = "br", "Breton";
    Bg = "bg", "Bulgarian";
    Ca = "ca", "Catalan";
    Cs = "cs", "Czech";
    Ch = "ch", "Chamorro";
    Ce = "ce", "Chechen";
    Cv = "cv", "Chuvash";
    Ckb = "ckb", "Central Kurdish";
    Cmn = "cmn", "Mandarin Chinese";
    Kw = "kw", "Cornish";
    Co = "co", "Corsican";
    Cr = "cr", "Cree";
    Cy = "cy", "Welsh";
    Da = "da", "Danish";
    Dar = "dar", "Dargwa";
    De = "de", "German";
    Dv = "dv", "Divehi";
    Dz = "dz", "Dzongkha";
    El = "el", "Modern Greek (1453-)";
    En = "en", "English";
    Et = "et", "Estonian";
    Eu = "eu", "Basque";
    Ee = "ee", "Ewe";
    Fo = "fo", "Faroese";
    Fa = "fa", "Persian";
    Fj = "fj", "Fijian";
    Fi = "fi", "Finnish";
    Fr = "fr", "French";
    Fy = "fy", "Western Frisian";
    Fuc = "fuc", "Pulaar";
    Fuf = "fuf", "Pular";
    Ff = "ff", "Fulah";
    Gd = "gd", "Scottish Gaelic";
    Ga = "ga", "Irish";
    Gl = "gl", "Galician";
    Gv = "gv", "Manx";
    Gn = "gn", "Guarani";
    Gu = "gu", "Gujarati";
    Ht = "ht", "Haitian";
    Ha = "ha", "Hausa";
    Haz = "haz", "Hazaragi";
    Hbs = "hbs", "Serbo-Croatian";
    He = "he", "Hebrew";
    Hz = "hz", "Herero";
    Hi = "hi", "Hindi";
    Ho = "ho", "Hiri Motu";
    Hne = "hne", "Chhattisgarhi";
    Hr = "hr", "Croatian";
    Hu = "hu", "Hungarian";
    Hy = "hy", "Armenian";
    Ig = "ig", "Igbo";
    Ii = "ii", "Sichuan Yi";
    Iu = "iu", "Inuktitut";
    Id = "id", "Indonesian";
    Ik = "ik", "Inupiaq";
    Is = "is", "Icelandic";
    It = "it", "Italian";
    Jv = "jv", "Javanese";
    Ja = "ja", "Japanese";
    Kl = "kl", "Kalaallisut";
    Kn = "kn", "Kannada";
    Ks = "ks", "Kashmiri";
    Ka = "ka", "Georgian";
    Kr = "kr", "Kanuri";
    Kk = "kk", "Kazakh";
    Km = "km", "Khmer";
    Ki = "ki", "Kikuyu";
    Rw = "rw", "Kinyarwanda";
    Ky = "ky", "Kirghiz";
    Kmr = "kmr", "Northern Kurdish";
    Kv = "kv", "Komi";
    Kg = "kg", "Kongo";
    Ko = "ko", "Korean";
    Kj = "kj", "Kuanyama";
    Ku = "ku", "Kurdish";
    Lah = "lah", "Lahnda";
    Lo = "lo", "Lao";
    Lv = "lv", "Latvian";
    Lez = "lez", "Lezghian";
    Li = "li", "Limburgan";
    Ln = "ln", "Lingala";
    Lt = "lt", "Lithuanian";
    Lb = "lb", "Luxembourgish";
    Lu = "lu", "Luba-Katanga";
    Lg = "lg", "Ganda";
    Mh = "mh", "Marshallese";
    Ml = "ml", "Malayalam";
    Man = "man", "Mandingo";
    Mr = "mr", "Marathi";
    Mk = "mk", "Macedonian";
    Mg = "mg", "Malagasy";
    Mt = "mt", "Maltese";
    Mnk = "mnk", "Mandinka";
    Mn = "mn", "Mongolian";
    Mi = "mi", "Maori";
    Ms = "ms", "Malay (macrolanguage)";
    My = "my", "Burmese";
    Na = "na", "Nauru";
    Nv = "nv", "Navajo";
    Nr = "nr", "South Ndebele";
    Nd = "nd", "North Ndebele";
    Ng = "ng", "Ndonga";
    Ne = "ne", "Nepali (macrolanguage)";
    #[default]
    Nl = "nl", "Dutch";
    Nn = "nn", "Norwegian Nynorsk";
    Nb = "nb", "Norwegian Bokmål";
    No = "no", "Norwegian";
    Ny = "ny", "Chichewa";
    Oc = "oc", "Occitan (post 1500)";
    Oj = "oj", "Ojibwa";
    Or = "or", "Oriya (macrolanguage)";
    Om = "om", "Oromo";
    Os = "os", "Ossetian";
    Pa = "pa", "Panjabi";
    Pbt = "pbt", "Southern Pashto";
    Pbu = "pbu", "Northern Pashto";
    Pes = "pes", "Iranian Persian";
    Pnb = "pnb", "Western Panjabi";
    Pl = "pl", "Polish";
    Pt = "pt", "Portuguese";
    Prs = "prs", "Dari";
    Pst = "pst", "Central Pashto";
    Ps = "ps", "Pushto";
    Qu = "qu", "Quechua";
    Rif = "rif", "Tarifit";
    Rmc = "rmc", "Carpathian Romani";
    Rmn = "rmn", "Balkan Romani";
    Rmy = "rmy", "Vlax Romani";
    Rm = "rm", "Romansh";
    Rom = "rom", "Romany";
    Ro = "ro", "Romanian";
    Rn = "rn", "Rundi";
    Ru = "ru", "Russian";
    Sg = "sg", "Sango";
    Sdh = "sdh", "Southern Kurdish";
    Shi = "shi", "Tachelhit";
    Si = "si", "Sinhala";
    Sk = "sk", "Slovak";
    Sl = "sl", "Slovenian";
    Se = "se", "Northern Sami";
    Sm = "sm", "Samoan";
    Sn = "sn", "Shona";
    Sd = "sd", "Sindhi";
    So = "so", "Somali";
    St = "st", "Southern Sotho";
    Es = "es", "Spanish";
    Sq = "sq", "Albanian";
    Sc = "sc", "Sardinian";
    Sr = "sr", "Serbian";
    Ss = "ss", "Swati";
    Su = "su", "Sundanese";
    Sw = "sw", "Swahili (macrolanguage)";
    Sv = "sv", "Swedish";
    Swh = "swh", "Swahili (individual language)";
    Ty = "ty", "Tahitian";
    Ta = "ta", "Tamil";
    Tt = "tt", "Tatar";
    Te = "te", "Telugu";
    Tg = "tg", "Tajik";
    Tl = "tl", "Tagalog";
    Th = "th", "Thai";
    Ti = "ti", "Tigrinya";
    To = "to", "Tonga (Tonga Islands)";
    Tn = "tn", "Tswana";
    Ts = "ts", "Tsonga";
    Tk = "tk", "Turkmen";
    Tr = "tr", "Turkish";
    Tw = "tw", "Twi";
    Tzm = "tzm", "Central Atlas Tamazight";
    Ug = "ug", "Uighur";
    Uk = "uk", "Ukrainian";
    Ur = "ur", "Urdu";
    Uz = "uz", "Uzbek";
    Uzn = "uzn", "Northern Uzbek";
    Ve = "ve", "Venda";
    Vi = "vi", "Vietnamese";
    Wa = "wa", "Walloon";
    Wo = "wo", "Wolof";
    Xh = "xh", "Xhosa";
    Yi = "yi", "Yiddish";
    Yo = "yo", "Yoruba";
    Yue = "yue", "Yue Chinese";
    Zgh = "zgh", "Standard Moroccan Tamazight";
    Za = "za", "Zhuang";
    Zh = "zh", "Chinese";
    Zu = "zu", "Zulu";
}

impl Lang {
    /// The answer language of a shortest ISO 639 code (`ar`, `prs`), in any case.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.iter().copied().find(|l| l.code().eq_ignore_ascii_case(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_of_the_reference_list_is_an_answer_language_by_its_shortest_code() {
        let languages: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../../seed/data/languages.json")).unwrap();
        let shortest: Vec<&str> = languages
            .iter()
            .map(|l| l["iso6391"].as_str().or(l["code"].as_str()).unwrap())
            .collect();
        let ours: Vec<&str> = Lang::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(ours, shortest);
        assert_eq!(Lang::from_code("PRS"), Some(Lang::Prs));
        assert_eq!(Lang::from_code("fas"), None, "Persian is `fa`");
    }
}
