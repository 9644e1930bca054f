#!/usr/bin/env python3
"""Build seed/data/languages.json, the languages table of socialmap.

Everything comes from maintained data packages, nothing is typed in by hand
except the list of extra codes we want (EXTRA_CODES below):

  iso639-lang==2.6.3    SIL ISO 639-3 code tables (as of 2025-07-15): codes,
                        639-1 codes, reference names, scopes, types and
                        macrolanguage mappings.
  langcodes==3.5.1      BCP 47 / CLDR tag normalisation.
  language_data==1.4.0  CLDR language names (used for the autonyms); it also
                        ships a few names of its own where CLDR has none
                        (here: lah/pnb, ven) or overrides CLDR (ind, msa).
  marisa-trie==1.4.1    dependency of language_data.

The same pins are in seed/tools/requirements.txt. To regenerate:

  python3 -m venv /tmp/langvenv
  /tmp/langvenv/bin/pip install -r seed/tools/requirements.txt
  /tmp/langvenv/bin/python seed/tools/languages.py

Which languages are in the table:
  (a) every living language that has an ISO 639-1 code;
  (b) the individual languages in EXTRA_CODES (spoken by refugee and newcomer
      groups in Belgium), when SIL still has them;
  (c) every macrolanguage of a language from (a) or (b).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from iso639 import Lang, iter_langs
from iso639.exceptions import DeprecatedLanguageValue, InvalidLanguageValue
from langcodes import Language
from language_data.names import code_to_names

OUTPUT = Path(__file__).resolve().parent.parent / "data" / "languages.json"

# (b) ISO 639-3 codes wanted even without a 639-1 code. Codes that SIL has
# retired or never had are skipped and reported, not guessed.
EXTRA_CODES = [
    # Persian, Pashto, Kurdish
    "prs", "pes", "pbt", "pbu", "pst", "ckb", "kmr", "sdh",
    # Arabic varieties ("ajp" was merged into "apc" by SIL in 2023)
    "arb", "arz", "apc", "ajp", "acm", "ary", "apd", "ayl", "aeb", "arq",
    "ayp", "afb",
    # Horn and East Africa
    "tir", "amh", "som", "swh",
    # Berber / Amazigh varieties spoken by Moroccans
    "tzm", "rif", "shi", "zgh",
    # South and East Asia
    "cmn", "yue", "urd", "ben", "tam", "pnb", "hne", "bal", "haz",
    # Central and West Africa
    "lin", "ful", "fuc", "fuf", "mnk", "wol", "ibo", "yor", "twi", "aka",
    # Caucasus
    "hye", "kat", "che", "ava", "lez", "dar",
    # Albanian, Romani
    "sqi", "als", "aln", "rom", "rmy", "rmn", "rmc",
    # Central Asia
    "uzb", "uzn", "tuk", "kir", "tgk",
]

SCOPES = {"Individual": "INDIVIDUAL", "Macrolanguage": "MACROLANGUAGE"}


def lookup(code: str) -> tuple[Lang | None, str | None]:
    """The SIL entry for an ISO 639-3 code, or (None, why it is missing)."""
    try:
        lang = Lang(code)
    except DeprecatedLanguageValue as e:
        return None, e.msg
    except InvalidLanguageValue:
        return None, "not an ISO 639 code"
    if lang.pt3 != code:  # e.g. a 639-2/B code that only resolves to another code
        return None, f"not an ISO 639-3 code (resolves to {lang.pt3 or lang.pt5})"
    return lang, None


def cldr_autonym(lang: Lang) -> str | None:
    """The language's name in the language itself, from CLDR, or None.

    Tries the 639-3 code, then the 639-1 code: first as they are, then as
    langcodes normalises them with CLDR's aliases (e.g. 'prs' -> 'fa-AF',
    'che' -> 'ce') and CLDR's macrolanguage preference (e.g. 'pes' -> 'fa',
    'cmn' -> 'zh'). Only a name stored *in* that language counts: we never use
    langcodes' fallback to the English name.
    """
    for code in filter(None, (lang.pt3, lang.pt1)):
        tag = Language.get(code)
        for candidate in (code, tag.to_tag(), tag.prefer_macrolanguage().to_tag()):
            subtag = Language.get(candidate, normalize=False).language
            names = code_to_names(candidate)  # {language it is named in: name}
            name = names.get(candidate) or names.get(subtag)
            if name:
                return name
    return None


def row(lang: Lang) -> dict:
    scope = lang.scope()
    if scope not in SCOPES:
        raise ValueError(f"{lang.pt3}: unexpected scope {scope!r}")
    macro = lang.macro()
    return {
        "code": lang.pt3,
        "iso6391": lang.pt1 or None,
        "nameEn": lang.name,  # SIL reference name
        "nameNative": cldr_autonym(lang),
        "scope": SCOPES[scope],
        "macrolanguage": macro.pt3 if macro else None,
    }


def main() -> int:
    chosen: dict[str, Lang] = {}

    # (a) living languages with a 639-1 code
    for lang in iter_langs():
        if lang.pt1 and lang.pt3 and lang.type() == "Living":
            chosen[lang.pt3] = lang

    # (b) extra individual languages
    skipped = []
    for code in EXTRA_CODES:
        lang, why = lookup(code)
        if lang is None:
            skipped.append((code, why))
            continue
        if lang.type() != "Living":
            print(f"note: {code} ({lang.name}) is {lang.type()}", file=sys.stderr)
        chosen[code] = lang

    # (c) close over macrolanguages
    for lang in list(chosen.values()):
        macro = lang.macro()
        if macro and macro.pt3 not in chosen:
            chosen[macro.pt3] = macro

    rows = [row(chosen[code]) for code in sorted(chosen)]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with OUTPUT.open("w", encoding="utf-8") as f:
        json.dump(rows, f, ensure_ascii=False, indent=2)
        f.write("\n")

    print(f"wrote {len(rows)} languages to {OUTPUT}", file=sys.stderr)
    for code, why in skipped:
        print(f"skipped {code}: {why}", file=sys.stderr)
    missing_autonym = [r["code"] for r in rows if r["nameNative"] is None]
    print(f"no CLDR autonym for {len(missing_autonym)}: {' '.join(missing_autonym)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
