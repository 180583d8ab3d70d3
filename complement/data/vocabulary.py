"""Topic word lists for the synthetic item text, and :func:`item_text` that writes an item's
title and description from its factors (see :mod:`complement.data.synth`).

Each text-bearing latent factor (a shared or a semantic-private dimension) owns one
:class:`TopicPair`: a *positive* and a *negative* topic, each a name and ten genre-like English
words. An item whose factor value is strongly positive draws words from the positive topic, a
strongly negative one from the negative topic. The lists are disjoint (no word appears twice in the
whole vocabulary) and each list is semantically coherent, so both a bag of words and a real
sentence encoder see the factor. Collaborative-private factors own no words: the text cannot
carry them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Topic:
    name: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class TopicPair:
    positive: Topic
    negative: Topic


def _pair(pos_name: str, pos_words: str, neg_name: str, neg_words: str) -> TopicPair:
    return TopicPair(Topic(pos_name, tuple(pos_words.split())), Topic(neg_name, tuple(neg_words.split())))


TOPIC_PAIRS: tuple[TopicPair, ...] = (
    _pair(
        "space",
        "space galaxy rocket planet astronaut orbit starship comet nebula alien",
        "farm",
        "farm village harvest barn tractor meadow orchard cattle farmer countryside",
    ),
    _pair(
        "ocean",
        "ocean sailor ship island pirate harbor tide reef voyage lighthouse",
        "desert",
        "desert dune camel oasis caravan sandstorm cactus canyon nomad mirage",
    ),
    _pair(
        "magic",
        "wizard spell dragon sorcery enchanted witch potion kingdom sword castle",
        "science",
        "laboratory scientist experiment chemistry physics microscope equation research molecule invention",
    ),
    _pair(
        "crime",
        "detective murder police crime heist gangster robbery investigation suspect clue",
        "romance",
        "love romance wedding kiss heart sweetheart courtship bride valentine passion",
    ),
    _pair(
        "war",
        "war soldier battle army tank general trench invasion regiment artillery",
        "serenity",
        "peace zen monastery meditation calm serenity tranquility harmony prayer retreat",
    ),
    _pair(
        "comedy",
        "comedy jokes laughter clown prank hilarious sitcom goofy slapstick satire",
        "tragedy",
        "grief tragedy funeral mourning sorrow loss widow despair tears elegy",
    ),
    _pair(
        "horror",
        "ghost haunted zombie vampire monster nightmare graveyard curse demon terror",
        "childhood",
        "puppy kitten teddy playground lullaby toys cartoon kindergarten balloon bunny",
    ),
    _pair(
        "sports",
        "football soccer baseball tennis champion stadium athlete tournament coach marathon",
        "music",
        "guitar piano symphony orchestra singer melody concert jazz violin drummer",
    ),
    _pair(
        "cooking",
        "cooking recipe kitchen chef baking bread soup dessert restaurant spices",
        "computers",
        "computer software hacker robot algorithm internet coding network database cyber",
    ),
    _pair(
        "western",
        "cowboy sheriff saloon outlaw ranch frontier horseback revolver prairie stagecoach",
        "city",
        "skyscraper subway downtown metropolis apartment taxi traffic nightlife avenue nightclub",
    ),
    _pair(
        "history",
        "ancient empire pharaoh medieval knight emperor dynasty roman pyramid throne",
        "future",
        "cyborg hologram dystopia utopia teleportation nanotechnology apocalypse wasteland timeline clone",
    ),
    _pair(
        "politics",
        "election president senator parliament campaign congress politician diplomat treaty scandal",
        "wilderness",
        "forest mountain river wildlife wolf bear hiking waterfall eagle wilderness",
    ),
    _pair(
        "business",
        "business startup money banker stocks corporation billionaire merger investor finance",
        "art",
        "painter painting museum sculpture gallery canvas artist portrait poetry ballet",
    ),
    _pair(
        "medicine",
        "doctor hospital nurse surgeon patient disease medicine virus surgery clinic",
        "travel",
        "travel journey passport airport tourist luggage hotel backpacking vacation sightseeing",
    ),
    _pair(
        "family",
        "mother father grandmother siblings daughter son cousins household parenting reunion",
        "solitude",
        "loner hermit solitude isolation stranger exile outcast drifter orphan wanderer",
    ),
    _pair(
        "school",
        "school teacher student classroom exam homework college campus graduation library",
        "prison",
        "prison inmate jail warden escape convict cell guard parole sentence",
    ),
    _pair(
        "winter",
        "snow winter ice frozen blizzard arctic skiing glacier igloo penguin",
        "summer",
        "summer beach sunshine surfing tropical heatwave sunscreen lemonade palm swimsuit",
    ),
    _pair(
        "espionage",
        "spy espionage agent undercover cipher surveillance informant codename defector embassy",
        "festival",
        "festival carnival parade fireworks holiday celebration feast costume fair dancing",
    ),
    _pair(
        "cars",
        "car racing motorcycle highway truck engine garage speedway driver mechanic",
        "railways",
        "train railway locomotive steam conductor carriage tracks platform depot station",
    ),
    _pair(
        "fashion",
        "fashion model designer catwalk dress glamour boutique makeup couture jewelry",
        "industry",
        "factory worker miner steel labor union coal welder shipyard foundry",
    ),
    _pair(
        "mythology",
        "gods myth zeus titan oracle legend olympus hero prophecy minotaur",
        "journalism",
        "journalist newspaper reporter interview documentary headline editor broadcast press newsroom",
    ),
    _pair(
        "dinosaurs",
        "dinosaur fossil jurassic prehistoric caveman volcano mammoth tyrannosaurus raptor amber",
        "gardening",
        "flowers roses tulips greenhouse seeds gardener blossom bouquet hedge lawn",
    ),
    _pair(
        "superheroes",
        "superhero villain superpower cape mask vigilante sidekick comic rescue mutant",
        "puzzles",
        "chess puzzle riddle strategy boardgame crossword logic checkmate maze trivia",
    ),
    _pair(
        "aviation",
        "pilot airplane aircraft cockpit runway jet hangar parachute helicopter airline",
        "underground",
        "cave tunnel sewer underground cavern bunker catacombs dungeon crypt mineshaft",
    ),
    _pair(
        "gambling",
        "casino poker gambling dice jackpot roulette blackjack bet lottery cards",
        "charity",
        "charity volunteer donation kindness shelter nonprofit fundraiser generosity mentor community",
    ),
    _pair(
        "martial-arts",
        "kungfu samurai ninja karate dojo sensei katana warrior duel shuriken",
        "wine",
        "vineyard wine sommelier cellar grapes champagne tasting winery vintage cork",
    ),
)

MAX_TEXT_FACTORS = len(TOPIC_PAIRS)
WORDS_PER_UNIT = 1.2  # expected topic words per unit of |factor value|
MAX_WORDS_PER_FACTOR = 4

# Neutral words for titles: they carry no factor, so they add only noise shared by all items.
TITLE_FORMS: tuple[str, ...] = (
    "Saga",
    "Chronicles",
    "Tales",
    "Story",
    "Files",
    "Legacy",
    "Diaries",
    "Affair",
    "Years",
    "Collection",
    "Papers",
    "Cycle",
    "Book",
    "Edition",
    "Trilogy",
    "Anthology",
)

# Connectors for the description: one per group of topic words, chosen at random.
PHRASES: tuple[str, ...] = (
    "a tale of {words}",
    "it follows {words}",
    "featuring {words}",
    "full of {words}",
    "with {words}",
    "about {words}",
    "mixing in {words}",
    "set among {words}",
)


def all_words() -> list[str]:
    """Every topic word, in pair order (for checks that the lists are disjoint)."""
    return [w for pair in TOPIC_PAIRS for topic in (pair.positive, pair.negative) for w in topic.words]


def item_text(factors: np.ndarray, rng: np.random.Generator) -> tuple[str, str, str]:
    """``(title, description, genres)`` of one item from its text-bearing factors ``[S, Ps]``.

    Factor ``j`` contributes ``⌊1.2·|z_j| + U⌋`` words (stochastic rounding, so the expected count is
    linear in ``|z_j|``; at most 4) drawn from topic pair ``j``'s positive list when ``z_j > 0`` and its
    negative list otherwise. The title is one word from each of the two strongest factors and a
    neutral form word ("Galaxy Harvest Chronicles"); the description strings all words, shuffled, through
    neutral phrases; ``genres`` names the topics of the two strongest factors."""
    strength = np.abs(factors)
    counts = np.minimum(np.floor(WORDS_PER_UNIT * strength + rng.random(len(factors))), MAX_WORDS_PER_FACTOR)
    counts = counts.astype(int)
    strongest = np.argsort(-strength, kind="stable")
    if counts.sum() == 0:
        counts[strongest[0]] = 1
    words: dict[int, list[str]] = {}
    topic_names: dict[int, str] = {}
    for j in np.flatnonzero(counts):
        pair = TOPIC_PAIRS[j]
        topic = pair.positive if factors[j] > 0 else pair.negative
        chosen = rng.choice(len(topic.words), size=counts[j], replace=False)
        words[int(j)] = [topic.words[k] for k in chosen]
        topic_names[int(j)] = topic.name
    leaders = [int(j) for j in strongest if int(j) in words][:2]
    title = " ".join(words[j][0].capitalize() for j in leaders) + " " + TITLE_FORMS[rng.integers(len(TITLE_FORMS))]
    genres = ", ".join(topic_names[j] for j in leaders)
    flat = [w for group in words.values() for w in group]
    flat = [flat[k] for k in rng.permutation(len(flat))]
    sentences = []
    for start in range(0, len(flat), 3):
        group = flat[start : start + 3]
        joined = group[0] if len(group) == 1 else ", ".join(group[:-1]) + " and " + group[-1]
        phrase = PHRASES[rng.integers(len(PHRASES))].format(words=joined)
        sentences.append(phrase[0].upper() + phrase[1:] + ".")
    return title, " ".join(sentences), genres
