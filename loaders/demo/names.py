"""Names for the demo's partners, customer accounts and people: word lists, and distinct names
drawn from their products at any scale."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from loaders.demo.columns import labels


# --- Name parts (compact word lists: "a, b, c" -> ["a", "b", "c"]) ---------------------
def words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


NAME_STEMS = words("""
    North, South, East, West, Blue, Bright, Iron, Silver, Cedar, Summit, Apex, Harbor, River, Stone, Oak,
    Pine, Maple, Granite, Crystal, Golden, Red, Green, Clear, Swift, True, Prime, Nova, Terra, Aero, Vista,
    Crest, Bay, Lake, Hill, Sky, Sun, Star, Wolf, Falcon, Eagle, Fox, Bear, Lion, Cobalt, Copper, Amber,
    Ember, Frost, Storm, Thunder, Quantum, Vector, Pixel, Cloud, Data, Logic, Signal, Echo, Pulse, Orbit""")
NAME_ENDINGS = words("""
    field, line, point, bridge, stone, wave, gate, path, view, ridge, wood, brook, port, side, way, works,
    peak, light, stream, mark, forge, spring, haven, core, shift, scape, spire, vale, ford, grove, hub,
    link, wise, tek, ware, sys, net, labs, ion, ly""")
PARTNER_INDUSTRIES = words("""
    Consulting, Solutions, Systems, Partners, Digital, Technologies, Group, Networks, IT Services,
    Cloud Services, Analytics, Integrations, Advisors, Software, Interactive, Tech, Computing, Informatics,
    Data Services, Security, Infotech, Consultancy, Cloud, Automation, DevOps, Managed Services,
    Business Solutions, IT Group, Digital Agency, Systems Integration""")
ACCOUNT_INDUSTRIES = words("""
    Foods, Logistics, Manufacturing, Health, Bank, Insurance, Retail, Energy, Pharma, Media, Motors,
    Airlines, Hotels, Capital, Telecom, Utilities, Construction, Apparel, Biotech, Chemicals, Shipping,
    Farms, Mining, Realty, Steel, Textiles, Clinics, Publishing, Brewing, Furniture, Marine, Electronics,
    Plastics, Paper, Travel, Outfitters, Beverages, Aerospace, Medical, Financial""")
# Appended, one per round, once stem x ending x industry runs out (scale > ~20 for accounts).
ACCOUNT_QUALIFIERS = [""] + words(
    "Holdings, International, Group, Worldwide, Global, Americas, Europe, Pacific, & Sons, Industries, Co."
)
FIRST_NAMES = words("""
    James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, David, Elizabeth, William, Barbara,
    Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen, Daniel, Lisa, Matthew, Nancy, Anthony,
    Sandra, Mark, Ashley, Steven, Emily, Paul, Michelle, Andrew, Amanda, Joshua, Melissa, Kevin, Stephanie,
    Brian, Rebecca, George, Laura, Timothy, Helen, Jason, Anna, Ryan, Olivia, Jacob, Sophie, Lukas, Emma,
    Matteo, Chloe, Hugo, Ines, Lars, Freya, Pablo, Lucia, Kenji, Yuki, Arjun, Priya, Wei, Mei, Rahul, Aisha,
    Diego, Camila, Mateo, Valentina, Omar, Leila, Noah, Mia, Liam, Ava, Ethan, Isabella, Oliver, Charlotte,
    Lucas, Amelia, Henrik, Ingrid, Tomas, Elena, Marco, Giulia, Felix, Hannah, Sven, Nora, Rafael, Beatriz,
    Samuel, Grace, Adrian, Zoe""")
LAST_NAMES = words("""
    Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez, Lopez,
    Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Perez, Thompson, White, Harris,
    Sanchez, Clark, Ramirez, Lewis, Robinson, Walker, Young, Allen, King, Wright, Scott, Torres, Nguyen,
    Hill, Flores, Green, Adams, Nelson, Baker, Hall, Rivera, Campbell, Mitchell, Carter, Roberts, Mueller,
    Schmidt, Schneider, Fischer, Weber, Dubois, Laurent, Moreau, Rossi, Russo, Bianchi, Jansen, de Vries,
    Andersson, Johansson, Nilsson, Fernandez, Ruiz, Tanaka, Suzuki, Sato, Kumar, Sharma, Patel, Singh,
    Chen, Wang, Li, Zhang, Kim, Park, O'Brien, Murphy, Kelly, Silva, Santos, Oliveira, Costa, Pereira,
    Novak, Kowalski, Nowak, Horvath, Larsen, Hansen, Berg, Dahl, Walsh, Byrne, Fraser""")


def unique_names(rng: np.random.Generator, n: int, parts: list[list[str]], qualifiers: list[str]) -> pl.Series:
    """n distinct names: a random pick of the product of parts (stem + ending + industry).

    When n exceeds that product, each further round adds the next qualifier, so names stay
    unique at any scale the qualifiers cover (and get a number beyond that).
    """
    sizes = [len(p) for p in parts]
    space = math.prod(sizes)
    codes = np.concatenate([rng.permutation(space) for _ in range(math.ceil(n / space))])[:n]
    rounds = np.arange(n) // space
    digits = []
    rest = codes
    for size in reversed(sizes):
        digits.append(rest % size)
        rest = rest // size
    digits.reverse()
    stem = labels(parts[0], digits[0]) + labels(parts[1], digits[1])
    extra = [f" {q.strip()}" if q else "" for q in qualifiers]
    extra += [f" {k}" for k in range(len(qualifiers), int(rounds.max(initial=0)) + 1)]
    names = pl.concat_str([stem, pl.lit(" "), labels(parts[2], digits[2]), labels(extra, rounds)])
    return pl.select(names).to_series()


def human_names(rng: np.random.Generator, n: int) -> pl.Series:
    """n distinct person names; a middle initial separates them beyond 100 x 100."""
    space = len(FIRST_NAMES) * len(LAST_NAMES)
    initials = [""] + [f" {chr(c)}." for c in range(ord("A"), ord("Z") + 1)]
    codes = rng.choice(space * len(initials), size=n, replace=False) if n > space else rng.choice(space, size=n, replace=False)
    first, rest = codes % len(FIRST_NAMES), codes // len(FIRST_NAMES)
    last, initial = rest % len(LAST_NAMES), rest // len(LAST_NAMES)
    names = pl.concat_str([labels(FIRST_NAMES, first), labels(initials, initial), pl.lit(" "), labels(LAST_NAMES, last)])
    return pl.select(names).to_series()
