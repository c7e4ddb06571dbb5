"""Build ``src/rainforest/datasets/data/synergies.json``: the knowledge base behind
``rainforest suggest`` (which sectors emit which residues, which sectors use them, and the
published cases that say so).

Run from the repository's root after changing any input::

    python tools/build_synergies.py

Inputs, all shipped with the package (their sources and licences are in
``src/rainforest/datasets/data/README.md``; the attributions are copied into the output):

- ``ewc_list_of_waste.csv``: the European Waste Catalogue. Its chapters and sub-chapters
  are named after the activity the waste comes from ("10 01 Wastes from power stations and
  other combustion plants"), which gives the *emitters* table below: each sub-chapter
  used by a synergy, mapped by hand to the NACE rev. 2 codes of that activity. The script
  checks every sub-chapter and code against the two tables and copies the sub-chapter's
  title next to the mapping, so a reader can judge each line.
- ``nace_rev2.csv``: every NACE code used is checked to exist.
- ``kalundborg.json``: every published Kalundborg exchange between two firms becomes one
  *case* (supplier and receiver coded in NACE by :data:`KALUNDBORG_NACE`), with the
  exchange's sources.
- :data:`rainforest.optimize.taxonomy.SYNERGIES`: the by-product uses the package already
  documents, each with its source; an entry citing Kalundborg is tagged as a Kalundborg
  case (with the exchanges it generalises), so that an evaluation on Kalundborg can leave
  it out; the parts citing a standard or a regulation are separate evidence.

The output is deterministic (sorted, no time stamp): rebuilding without a change of input
gives the same bytes, which ``tests/test_suggest.py`` checks.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "rainforest" / "datasets" / "data"
OUT = DATA / "synergies.json"

#: The Kalundborg firms' main activity in NACE rev. 2 (the bundled document gives their
#: sector in words only). One code per firm, as a facilitator would enter it.
KALUNDBORG_NACE: dict[str, tuple[str, str]] = {
    "asnaes": ("35.11", "coal-fired power station (electricity first; heat and steam as co-products)"),
    "statoil_refinery": ("19.20", "petroleum refinery"),
    "novo_nordisk": ("21.20", "insulin: pharmaceutical preparations"),
    "novozymes": ("20.59", "industrial enzymes: other chemical products n.e.c."),
    "gyproc": ("23.62", "plasterboard: plaster products for construction"),
    "kalundborg_utility": (
        "37.00",
        "municipal utility; its exchanges are those of the waste-water plant and the heat network, coded by its treatment plant (sewerage)",
    ),
    "fish_farm": ("03.21", "fish farm on the fjord using the power station's sea cooling water: marine aquaculture"),
    "farmers": ("01.50", "local farms, crops and pigs: mixed farming"),
    "cement_industry": ("23.51", "Aalborg Portland: manufacture of cement"),
    "kemira": ("20.13", "sulphuric acid: other inorganic basic chemicals"),
    "soilrem": ("39.00", "soil remediation: remediation activities"),
    "kalundborg_bioenergy": ("35.21", "biogas: manufacture of gas"),
    "inbicon": ("20.14", "bioethanol: other organic basic chemicals"),
    "kara_noveren": ("38.21", "waste management: treatment of non-hazardous waste"),
}

#: EWC sub-chapter -> the NACE codes of the activity its title names.
EMITTERS: dict[str, tuple[str, ...]] = {
    "02 01": ("01", "02", "03"),  # agriculture, horticulture, aquaculture, forestry, hunting and fishing
    "02 03": (
        "10.3",
        "10.4",
        "10.6",
        "10.8",
        "12.00",
    ),  # fruit, vegetables, cereals, oils, cocoa, coffee, tea, tobacco; yeast
    "02 07": ("11",),  # alcoholic and non-alcoholic beverages
    "03 01": ("16", "31.0"),  # wood processing, panels and furniture
    "05 01": ("19.20",),  # petroleum refining
    "07 02": ("20.16", "20.17", "20.60"),  # plastics, synthetic rubber and man-made fibres
    "07 05": ("21.10", "21.20"),  # pharmaceuticals
    "10 01": ("35.11", "35.30"),  # power stations and other combustion plants
    "10 02": ("24.10",),  # iron and steel industry
    "12 01": ("25", "22.2"),  # shaping and surface treatment of metals and plastics
    "19 08": ("37.00",),  # waste water treatment plants
}

#: The synergies: id -> (residue, use, EWC codes, aliases that name the residue in a resource id or name).
ENTRIES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]] = {
    "fgd_gypsum": ("FGD gypsum", "replaces mined gypsum in plasterboard", ("10 01 05", "10 01 07"), ("gypsum", "fgd")),
    "fly_ash": ("coal fly ash", "cement, concrete and road building", ("10 01 02",), ("fly_ash", "fly ash", "flyash")),
    "process_steam": (
        "process steam and district heat",
        "process heat or district heating",
        (),
        ("steam", "district_heat"),
    ),
    "warm_water": (
        "warm cooling water (waste heat)",
        "heated water for fish farming",
        (),
        ("warm_water", "waste_heat"),
    ),
    "fermentation_sludge": (
        "fermentation biomass and sludge",
        "fertiliser or biogas feedstock",
        ("07 05 12", "02 07 01", "16 10 02"),
        ("fermentation", "biomass", "yeast_cream"),
    ),
    "feed_residues": (
        "surplus yeast, spent grain and food residues",
        "animal feed or biogas",
        ("02 07 02", "02 03 04"),
        ("yeast", "grain", "food_waste"),
    ),
    "fish_pond_sludge": ("fish-pond sludge", "fertiliser", (), ("fish_pond", "fish sludge")),
    "digestate": ("digestate from biogas", "fertiliser", (), ("digestate",)),
    "cooling_water": (
        "used cooling water",
        "boiler feed or cooling water",
        ("19 08 14",),
        ("cooling_water", "cooling water"),
    ),
    "process_water": (
        "treated effluent and condensate",
        "process (technical) water",
        (),
        ("effluent", "condensate", "technical_water"),
    ),
    "wastewater": (
        "industrial wastewater",
        "shared treatment plant or biogas reactor",
        (),
        ("wastewater", "waste_water"),
    ),
    "refinery_gas": ("surplus refinery gas", "fuel", (), ("refinery_gas", "fuel_gas", "flare_gas")),
    "sulphur": ("recovered sulphur", "sulphuric acid production", ("05 01 16",), ("sulphur", "sulfur")),
    "thiosulphate": ("ammonium thiosulphate", "liquid fertiliser", (), ("thiosulphate", "thiosulfate")),
    "sewage_sludge": (
        "sewage sludge",
        "soil remediation, soil improver or biogas",
        ("19 08 05",),
        ("sewage_sludge", "sewage"),
    ),
    "bioethanol": ("second-generation bioethanol", "blending in petrol", (), ("ethanol",)),
    "slag": ("blast furnace and steel slag", "cement and aggregates", ("10 02 01", "10 02 02"), ("slag",)),
    "wood": (
        "wood chips and sawdust",
        "biomass fuel or panel boards",
        ("03 01 05", "03 01 01"),
        ("wood_chips", "sawdust", "wood"),
    ),
    "plastic": ("plastic scrap", "recycled plastic products", ("07 02 13", "12 01 05"), ("plastic",)),
    "metal_scrap": ("metal scrap", "secondary metal production", ("12 01 01", "12 01 03"), ("metal_scrap", "scrap")),
}

#: Each Kalundborg exchange between two firms -> its synergy. E22_23_combined is a total,
#: and exchanges with Lake Tisso or the gas grid have no firm at one end: left out.
KALUNDBORG_EXCHANGES: dict[str, str] = {
    "E02": "refinery_gas",
    "E04": "fermentation_sludge",
    "E05": "fly_ash",
    "E06": "process_steam",
    "E07": "process_steam",
    "E08": "process_steam",
    "E08b": "process_steam",
    "E09": "warm_water",
    "E10": "fish_pond_sludge",
    "E11": "cooling_water",
    "E12": "process_water",
    "E13": "refinery_gas",
    "E14": "sulphur",
    "E15": "thiosulphate",
    "E16": "fgd_gypsum",
    "E17": "sewage_sludge",
    "E18": "wastewater",
    "E18b": "wastewater",
    "E20": "feed_residues",
    "E21": "wastewater",
    "E22": "fermentation_sludge",
    "E23": "fermentation_sludge",
    "E24": "digestate",
    "E26": "process_water",
    "E27": "bioethanol",
}

#: taxonomy.SYNERGIES by by-product -> (synergy, the Kalundborg exchanges it generalises
#: (empty: not a Kalundborg case), suppliers named by its source (empty: the emitters of
#: its EWC codes), its receivers that the Kalundborg part supports, and the parts citing
#: something else: (citation, kind, receivers)).
TAXONOMY: dict[
    str,
    tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...] | None, tuple[tuple[str, str, tuple[str, ...]], ...]],
] = {
    "FGD gypsum": ("fgd_gypsum", ("E16",), (), None, ()),
    "coal fly ash": (
        "fly_ash",
        ("E05",),
        (),
        ("23.51",),
        (("EN 450-1, Fly ash for concrete (European standard)", "standard", ("23.61", "23.63")),),
    ),
    "process steam / waste heat": ("process_steam", ("E06", "E07", "E08"), ("35.11",), None, ()),
    "fermentation sludge": ("fermentation_sludge", ("E04",), ("21.20",), None, ()),
    "sewage sludge": (
        "sewage_sludge",
        ("E17",),
        (),
        ("35.21", "38.21"),
        (("EU Directive 86/278/EEC on the use of sewage sludge in agriculture", "regulation", ("01",)),),
    ),
    "blast furnace and steel slag": ("slag", (), (), None, ()),
    "spent grain and food residues": ("feed_residues", ("E20",), (), None, ()),
    "sulphur from gas desulphurisation": ("sulphur", ("E14",), ("19.20",), None, ()),
    "cooling and treated waste water": ("cooling_water", ("E11",), ("19.20",), None, ()),
    "wood chips and sawdust": ("wood", (), (), None, ()),
    "plastic scrap": ("plastic", (), (), None, ()),
    "metal scrap": ("metal_scrap", (), (), None, ()),
}


#: Published evidence from outside Kalundborg: source id -> (synergy, park (None: a sector
#: reference, not one park), kind, what it documents, suppliers, receivers, citation, urls).
#: Each was read (the passage named in "what it documents") before it was added; a park's
#: firms are coded in NACE rev. 2 by their activity as the source describes it.
LITERATURE: dict[str, tuple[str, str | None, str, str, tuple[str, ...], tuple[str, ...], str, tuple[str, ...]]] = {
    "chertow_lombardi_2005": (
        "process_steam",
        "Guayama",
        "case",
        "Guayama, Puerto Rico: the AES coal-fired power plant sells steam to a nearby refinery, "
        "cutting the refinery's emissions (abstract)",
        ("35.11",),
        ("19.20",),
        "Chertow, M. R. and Lombardi, D. R. (2005). Quantifying economic and environmental benefits "
        "of co-located firms. Environmental Science & Technology 39(17), 6535-6541. doi:10.1021/es050050+",
        ("https://doi.org/10.1021/es050050+",),
    ),
    "eckelman_chertow_2013": (
        "process_steam",
        "Campbell Industrial Park",
        "case",
        "Campbell Industrial Park, O'ahu, Hawai'i (11 facilities): steam shared between a combined-cycle "
        "fuel-oil cogeneration plant and a nearby refinery, the exchange with the largest savings (abstract)",
        ("35.11",),
        ("19.20",),
        "Eckelman, M. J. and Chertow, M. R. (2013). Life cycle energy and environmental benefits of a US "
        "industrial symbiosis. International Journal of Life Cycle Assessment 18(8), 1524-1532. "
        "doi:10.1007/s11367-013-0601-5",
        ("https://doi.org/10.1007/s11367-013-0601-5",),
    ),
    "acaa_fgd_gypsum": (
        "fgd_gypsum",
        None,
        "reference",
        "United States: FGD gypsum from coal-fired power plants' scrubbers is used in more than 40 % of the "
        "gypsum wallboard made in the US; also as cement feedstock and as a soil treatment in agriculture",
        ("35.11",),
        ("23.62", "23.51", "01"),
        "American Coal Ash Association, 'Flue Gas Desulfurization Gypsum' (What are CCPs?), acaa-usa.org",
        ("https://www.acaa-usa.org/AboutCoalAsh/WhatareCCPs/FlueGasDesulfurizationGypsum.aspx",),
    ),
    "caer_cement": (
        "fly_ash",
        None,
        "reference",
        "Coal-fired power plants' fly ash and bottom ash are frequently used as a raw ingredient (alumina "
        "and silica) in making Portland cement clinker",
        ("35.11",),
        ("23.51",),
        "University of Kentucky Center for Applied Energy Research, Kentucky Ash Education: 'Fly Ash is Used "
        "in Portland Cement', caer.uky.edu",
        ("http://www.caer.uky.edu/kyasheducation/portland-cement.shtml",),
    ),
    "smith_2005_iea": (
        "fly_ash",
        None,
        "reference",
        "Review of coal ash use by country, focused on its two main markets, cement and concrete",
        ("35.11",),
        ("23.51", "23.61", "23.63"),
        "Smith, I. M. (2005). Cement and concrete: benefits and barriers in coal ash utilisation. "
        "IEA Clean Coal Centre report CCC/94, ISBN 92-9029-409-4",
        (),
    ),
    "csmonitor_1980_trout": (
        "warm_water",
        None,
        "case",
        "New Jersey, US: Public Service Electric & Gas raised rainbow trout in cooling water pumped from its "
        "coal-fired power plant on the Delaware River, and tried catfish and eels",
        ("35.11",),
        ("03.22",),
        "'US utilities, with plenty of warm water, begin raising fish', The Christian Science Monitor, 19 June 1980",
        ("https://www.csmonitor.com/1980/0619/061903.html",),
    ),
    "muench_1976": (
        "warm_water",
        None,
        "case",
        "California, US: Southern California Edison supported pilot culture of American lobster in the "
        "thermal effluent of its generating stations (abstract)",
        ("35.11",),
        ("03.21",),
        "Muench, K. A. (1976). The role of the electric utilities industry in developing the use of thermal "
        "effluent in aquaculture. Proceedings of the Annual Meeting - World Mariculture Society 7. "
        "doi:10.1111/j.1749-7345.1976.tb00087.x",
        ("https://doi.org/10.1111/j.1749-7345.1976.tb00087.x",),
    ),
    "kent_sulfur": (
        "sulphur",
        None,
        "reference",
        "Sulphur recovered from sour oil and gas (hydrotreating) is the largest source of sulphur; bright "
        "sulphur comes almost only from oil and gas processing; sulphuric acid makes up 93 % of the "
        "elemental sulphur used in the US",
        ("19.20",),
        ("20.13",),
        "d'Aquin, G. E. and Fell, R. C. Sulfur and sulfuric acid. Chapter 14 in Kent, J. A. (ed.), Kent and "
        "Riegel's Handbook of Industrial Chemistry and Biotechnology, Springer",
        (),
    ),
    "britannica_sulfuric_acid": (
        "sulphur",
        None,
        "reference",
        "Sulphuric acid is made by burning sulphur; almost half of the world's sulphuric acid goes to "
        "superphosphate and related fertilisers (so fertiliser makers are the main users of the sulphur)",
        ("19.20",),
        ("20.13", "20.15"),
        "Encyclopaedia Britannica, 'Chemical industry: Sulfuric acid' (uses; sources of sulfur)",
        ("http://www.britannica.com/topic/chemical-industry/Sulfuric-acid",),
    ),
    "ep0060407_feed": (
        "feed_residues",
        None,
        "patent",
        "Hoechst: the Penicillium mycelium left over from penicillin fermentation, freed of penicillin by "
        "ensiling, used as single feed for pigs and cattle (a patented process, not an observed exchange)",
        ("21.10",),
        ("01.46", "01.41", "01.42"),
        "Ebert, H. and Kreutzfeldt, R. (Hoechst AG). Process for the production of penicillin-free mycelium "
        "masses from cultures obtained in the production by fermentation of penicillin, and their use as "
        "animal feed and fertilizers. European patent EP 0 060 407 B1",
        ("https://patents.google.com/patent/EP0060407B1/en",),
    ),
    "ep0060407_fertiliser": (
        "fermentation_sludge",
        None,
        "patent",
        "Hoechst: the same ensiled penicillin-free mycelium used as fertiliser (a patented process, not an "
        "observed exchange)",
        ("21.10",),
        ("01",),
        "Ebert, H. and Kreutzfeldt, R. (Hoechst AG). Process for the production of penicillin-free mycelium "
        "masses from cultures obtained in the production by fermentation of penicillin, and their use as "
        "animal feed and fertilizers. European patent EP 0 060 407 B1",
        ("https://patents.google.com/patent/EP0060407B1/en",),
    ),
    "selby_1996": (
        "process_water",
        None,
        "case",
        "Greater Los Angeles: reclaimed water (treated municipal sewage effluent) used for over 25 years as "
        "make-up to the cooling circuits of electric utility generating stations and other industrial "
        "facilities, refinery cooling among them (abstract and keywords)",
        ("37.00",),
        ("35.11", "19.20"),
        "Selby, K. A., Puckorius, P. R. and Helm, K. R. (1996). The use of reclaimed water in electric power "
        "stations and other industrial facilities. Water, Air, & Soil Pollution 90(1-2), 183-193. "
        "doi:10.1007/BF00619280",
        ("https://doi.org/10.1007/BF00619280",),
    ),
    "processes_2025_sludge": (
        "sewage_sludge",
        None,
        "study",
        "Experiment: soil polluted by the oil industry treated with sludge from municipal waste water "
        "treatment plants for bioremediation (title and section headings; a study, not an observed exchange)",
        ("37.00",),
        ("39.00",),
        "Sustainable remediation of polluted soils from the oil industry using sludge from municipal "
        "wastewater treatment plants. Processes 13(1), 245 (2025), MDPI",
        ("https://www.mdpi.com/2227-9717/13/1/245",),
    ),
    "directive_91_271": (
        "wastewater",
        None,
        "regulation",
        "Industrial waste water entering collecting systems and urban waste water treatment plants is "
        "subject to prior regulation or authorisation (recitals; Article 11); any trade or industry "
        "(Article 2(3)), coded here as the manufacturing divisions 10-33",
        tuple(f"{d:02d}" for d in range(10, 34)),
        ("37.00",),
        "Council Directive 91/271/EEC of 21 May 1991 concerning urban waste water treatment, "
        "OJ L 135, 30.5.1991, p. 40",
        ("https://eur-lex.europa.eu/eli/dir/1991/271/oj",),
    ),
}


def _by_case(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda x: str(x["case"]))


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _attributions() -> list[str]:
    """The README's entries for the inputs, copied whole (their licences ask for it)."""
    text = (DATA / "README.md").read_text(encoding="utf-8")
    keep = []
    for block in text.split("\n- "):
        if block.startswith(("`ewc_list_of_waste.csv`", "`nace_rev2.csv`", "`kalundborg.json`")):
            keep.append(" ".join(block.split()))
    return keep


def build() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from rainforest.optimize.taxonomy import SYNERGIES

    ewc = {r["code_spaced"].rstrip("*"): r for r in _rows("ewc_list_of_waste.csv")}
    subchapters = {f"{r['subchapter_code'][:2]} {r['subchapter_code'][2:]}": r["subchapter"] for r in ewc.values()}
    nace = {r["code"]: r for r in _rows("nace_rev2.csv")}
    problems: list[str] = []

    def check_nace(code: str, where: str) -> None:
        if code not in nace:
            problems.append(f"{where}: NACE code {code!r} is not in nace_rev2.csv")

    emitters = []
    for sub, codes in sorted(EMITTERS.items()):
        if sub not in subchapters:
            problems.append(f"emitters: EWC sub-chapter {sub!r} is not in ewc_list_of_waste.csv")
            continue
        for code in codes:
            check_nace(code, f"emitters[{sub}]")
        emitters.append(
            {
                "ewc_subchapter": sub,
                "title": subchapters[sub],
                "nace": list(codes),
                "nace_titles": [nace[c]["description"].strip() if c in nace else "" for c in codes],
            }
        )
    for aid, (code, _why) in KALUNDBORG_NACE.items():
        check_nace(code, f"KALUNDBORG_NACE[{aid}]")

    k = json.loads((DATA / "kalundborg.json").read_text(encoding="utf-8"))
    ksources = k["sources"]
    sources: dict[str, dict[str, Any]] = {}
    evidence: dict[str, list[dict[str, Any]]] = {sid: [] for sid in ENTRIES}
    for e in k["exchanges"]:
        eid = e["id"]
        if eid not in KALUNDBORG_EXCHANGES:
            continue
        src, dst = e["from"], e["to"]
        cited = [s for s in [e.get("quantity_source"), e.get("year_started_source"), *e.get("other_sources", [])] if s]
        cited = list(dict.fromkeys(cited))
        for s in cited:
            sources[s] = {"citation": ksources[s]["citation"], "urls": ksources[s].get("urls", [])}
        evidence[KALUNDBORG_EXCHANGES[eid]].append(
            {
                "case": f"kalundborg:{eid}",
                "park": "Kalundborg",
                "kind": "case",
                "description": f"{src} -> {dst}: {e['resource']}"
                + (f" (since {e['year_started']})" if e.get("year_started") else ""),
                "suppliers": [KALUNDBORG_NACE[src][0]],
                "receivers": [KALUNDBORG_NACE[dst][0]],
                "kalundborg_exchanges": [eid],
                "sources": cited,
                "citation": f"Kalundborg Symbiosis exchange {eid} (kalundborg.json: {', '.join(cited) or 'no source id'})",
            }
        )
    missing = set(KALUNDBORG_EXCHANGES) - {x["kalundborg_exchanges"][0] for v in evidence.values() for x in v}
    if missing:
        problems.append(f"kalundborg.json has no exchange {sorted(missing)}")

    for s in SYNERGIES:
        if s.by_product not in TAXONOMY:
            problems.append(f"taxonomy.SYNERGIES: {s.by_product!r} is not mapped in TAXONOMY")
            continue
        sid, exchanges, suppliers, receivers, others = TAXONOMY[s.by_product]
        case_receivers = list(receivers if receivers is not None else s.receiving_sectors)
        for code in [*suppliers, *case_receivers]:
            check_nace(code, f"TAXONOMY[{s.by_product}]")
        evidence[sid].append(
            {
                "case": f"taxonomy:{sid}",
                "park": "Kalundborg" if exchanges else None,
                "kind": "case",
                "description": f"{s.by_product} -> {s.use}",
                "suppliers": list(suppliers),
                "receivers": case_receivers,
                "kalundborg_exchanges": list(exchanges),
                "sources": [],
                "citation": s.source,
            }
        )
        for citation, kind, codes in others:
            for code in codes:
                check_nace(code, f"TAXONOMY[{s.by_product}] {citation}")
            evidence[sid].append(
                {
                    "case": f"{kind}:{sid}",
                    "park": None,
                    "kind": kind,
                    "description": f"{s.by_product} -> {s.use}",
                    "suppliers": [],
                    "receivers": list(codes),
                    "kalundborg_exchanges": [],
                    "sources": [],
                    "citation": citation,
                }
            )

    for src_id, (sid, park, kind, what, sup, rec, citation, urls) in sorted(LITERATURE.items()):
        if sid not in ENTRIES:
            problems.append(f"LITERATURE[{src_id}]: no synergy {sid!r}")
            continue
        if park == "Kalundborg":
            problems.append(f"LITERATURE[{src_id}]: Kalundborg evidence belongs in kalundborg.json")
        for code in [*sup, *rec]:
            check_nace(code, f"LITERATURE[{src_id}]")
        sources[src_id] = {"citation": citation, "urls": list(urls)}
        evidence[sid].append(
            {
                "case": f"literature:{src_id}",
                "park": park,
                "kind": kind,
                "description": what,
                "suppliers": list(sup),
                "receivers": list(rec),
                "kalundborg_exchanges": [],
                "sources": [src_id],
                "citation": citation,
            }
        )

    synergies = []
    for sid, (residue, use, codes, aliases) in ENTRIES.items():
        for c in codes:
            if c not in ewc:
                problems.append(f"ENTRIES[{sid}]: EWC code {c!r} is not in ewc_list_of_waste.csv")
        if not evidence[sid]:
            problems.append(f"ENTRIES[{sid}]: no evidence")
        synergies.append(
            {
                "id": sid,
                "residue": residue,
                "use": use,
                "ewc": list(codes),
                "ewc_descriptions": [ewc[c]["description"] if c in ewc else "" for c in codes],
                "aliases": list(aliases),
                "evidence": _by_case(evidence[sid]),
            }
        )
    if problems:
        raise SystemExit("cannot build the knowledge base:\n  " + "\n  ".join(problems))
    return {
        "format": "rainforest-synergies/1",
        "description": "Documented industrial-symbiosis synergies by sector: which sectors emit which residues "
        "(from the European Waste Catalogue's sub-chapters, named after the source activity) and which sectors "
        "use them (from published cases, a standard and a regulation). Built by tools/build_synergies.py; "
        "do not edit by hand.",
        "built_by": "tools/build_synergies.py",
        "inputs": [
            "ewc_list_of_waste.csv",
            "nace_rev2.csv",
            "kalundborg.json",
            "rainforest.optimize.taxonomy.SYNERGIES",
            "tools/build_synergies.py LITERATURE (published evidence from outside Kalundborg)",
        ],
        "attribution": _attributions(),
        "kalundborg_nace": {a: {"nace": c, "why": w} for a, (c, w) in KALUNDBORG_NACE.items()},
        "emitters": emitters,
        "synergies": synergies,
        "sources": dict(sorted(sources.items())),
    }


def main() -> None:
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
