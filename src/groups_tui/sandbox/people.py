"""The simulated WhatsApp users: a seeded population with real-looking, valid numbers.

Numbers come from ``phonenumbers.example_number_for_type`` for each country, with the
subscriber digits varied and every candidate re-checked with ``is_valid_number`` and
``region_code_for_number`` (so a +7 7xx number really is Kazakh and a +1 876 number really
is Jamaican). Countries span many of Meta's pricing markets, including the +1 and +7 splits
and countries that are not on the rate card at all (Poland, Ukraine, Hungary).

Profile names come in many scripts, with emoji and right-to-left text, and a few people have
hostile names (terminal markup, ANSI and OSC escape sequences, bidi overrides) so that
unsafe rendering shows up in the demo itself.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import phonenumbers

__all__ = [
    "CHAT_LINES",
    "COUNTRIES",
    "HIDDEN_PHONE_SHARE",
    "MARKET_SHARE",
    "HOSTILE_NAMES",
    "HOSTILE_TEXTS",
    "SPAM_TEXTS",
    "Country",
    "Person",
    "Population",
]


@dataclass(frozen=True, slots=True)
class Country:
    """A country people come from.

    Attributes:
        iso2: ISO 3166 region code, as ``phonenumbers`` knows it.
        market: Meta pricing market the number falls into (informational).
        scripts: Name scripts used for people from here, most likely first.
        weight: Relative share of the population.
        prefixes: National-number prefixes to build numbers on (area codes for +1);
            empty means "the prefix of the example mobile number".
    """

    iso2: str
    market: str
    scripts: tuple[str, ...]
    weight: int = 3
    prefixes: tuple[str, ...] = ()


COUNTRIES: tuple[Country, ...] = (
    Country("US", "North America", ("latin", "emoji"), 8, ("201", "212", "305", "415", "650")),
    Country("CA", "North America", ("latin",), 3, ("416", "514", "604")),
    Country("DO", "Rest of Latin America", ("latin",), 2, ("809", "829")),
    Country("JM", "Rest of Latin America", ("latin", "emoji"), 2, ("876",)),
    Country("PR", "Rest of Latin America", ("latin",), 2, ("787", "939")),
    Country("AI", "Other", ("latin",), 1, ("264",)),
    Country("TT", "Other", ("latin",), 1, ("868",)),
    Country("RU", "Russia", ("cyrillic", "latin"), 4),
    Country("KZ", "Kazakhstan", ("cyrillic", "latin"), 2),
    Country("GB", "United Kingdom", ("latin", "emoji"), 5),
    Country("DE", "Germany", ("latin",), 4),
    Country("FR", "France", ("latin",), 4),
    Country("IT", "Italy", ("latin",), 3),
    Country("ES", "Spain", ("latin", "emoji"), 4),
    Country("NL", "Netherlands", ("latin",), 2),
    Country("GR", "Rest of Central & Eastern Europe", ("greek", "latin"), 1),
    Country("BR", "Brazil", ("latin", "emoji"), 6),
    Country("AR", "Argentina", ("latin",), 3),
    Country("MX", "Mexico", ("latin", "emoji"), 5),
    Country("CO", "Colombia", ("latin",), 3),
    Country("CL", "Chile", ("latin",), 2),
    Country("PE", "Peru", ("latin",), 2),
    Country("IN", "India", ("devanagari", "latin"), 7),
    Country("PK", "Pakistan", ("arabic", "latin"), 3),
    Country("ID", "Indonesia", ("latin",), 4),
    Country("MY", "Malaysia", ("latin", "cjk"), 2),
    Country("SG", "Singapore", ("cjk", "latin"), 2),
    Country("JP", "Rest of Asia Pacific", ("cjk",), 2),
    Country("TH", "Rest of Asia Pacific", ("thai",), 2),
    Country("EG", "Egypt", ("arabic", "latin"), 3),
    Country("NG", "Nigeria", ("latin", "emoji"), 4),
    Country("ZA", "South Africa", ("latin",), 3),
    Country("SA", "Saudi Arabia", ("arabic",), 3),
    Country("AE", "United Arab Emirates", ("arabic", "latin"), 3),
    Country("QA", "Qatar", ("arabic",), 1),
    Country("IL", "Israel", ("hebrew", "latin"), 2),
    Country("TR", "Turkey", ("latin",), 3),
    Country("PL", "Poland (not on the card)", ("latin",), 2),
    Country("UA", "Ukraine (not on the card)", ("cyrillic",), 2),
    Country("HU", "Hungary (not on the card)", ("latin",), 1),
)

_NAMES: dict[str, tuple[str, ...]] = {
    "latin": (
        "Sheena Nelson",
        "Lucía Fernández",
        "João Silva",
        "François Dubois",
        "Zoë Müller",
        "Małgorzata Wiśniewska",
        "Ngozi Okafor",
        "Thabo Mokoena",
        "Siti Nurhaliza",
        "Ahmad bin Ismail",
        "Giulia Rossi",
        "Jan de Vries",
        "Mehmet Yılmaz",
        "Camila Rojas",
        "Mateo González",
        "Valentina Pérez",
        "Oliver Smith",
        "Priya Nair",
        "Chidi Eze",
        "Søren Ødegård",
        "Ayşe Demir",
        "Björn Åkesson",
        "Nguyễn Thị Lan",
        "Kofi Mensah",
        "María José Núñez",
        "Dmitri Volkov",
        "Aigerim Nurlanovna",
        "Hanna Kowalczyk",
        "Tomás Ó Briain",
        "Léa Girard",
        "Ana Paula Souza",
        "Diego Ramírez",
        "Fatima Bello",
        "Olga Horváth",
        "Wanjiru Kamau",
        "Rafael Díaz",
        "Sofía Castro",
        "Luca Bianchi",
    ),
    "cyrillic": (
        "Анна Смирнова",
        "Дмитрий Козлов",
        "Айгерім Нұрланқызы",
        "Олена Коваленко",
        "Сергей Иванов",
        "Наталья Петрова",
        "Ерлан Жумабаев",
        "Мария Соколова",
    ),
    "arabic": (
        "محمد العتيبي",
        "فاطمة الزهراء",
        "عمر خالد",
        "نورة القحطاني",
        "أحمد حسن",
        "ليلى منصور",
        "يوسف الحربي",
        "عائشة محمود",
    ),
    "hebrew": ("נועה כהן", "יוסי לוי", "מיכל אברהם", "דניאל מזרחי"),
    "devanagari": ("प्रिया शर्मा", "राहुल वर्मा", "अनीता देवी", "विकास गुप्ता", "सुनीता यादव"),
    "cjk": ("王小明", "李娜", "佐藤 花子", "田中 太郎", "陈伟", "김민준", "林美玲"),
    "thai": ("สมชาย ใจดี", "นภัสสร ศรีสุข", "วิชัย ทองดี"),
    "greek": ("Γιώργος Παπαδόπουλος", "Ελένη Νικολάου"),
    "emoji": (
        "Mum 💐",
        "🚚 Driver Carlos",
        "Ana 🇧🇷✨",
        "👨‍👩‍👧 Family",
        "Zé 😎",
        "Omar عمر 🚀",
        "🌸 Sakura",
        "Tío Pepe 🍷",
        "Kemi 💃🏾",
        "⚽ Leo",
    ),
}

HOSTILE_NAMES: tuple[str, ...] = (
    "[@click=app.quit]Free prize[/]",
    "[link=https://x.test]click[/link]",
    "[bold red]ADMIN[/bold red]",
    "\x1b[31mred alert\x1b[0m",
    "\x1b]52;c;cHduZWQ=\x07Clipboard",
    "\u202eexe.txt\u202c Invoice",
    "unbalanced [ bracket",
    "[/]",
    "Line\r\nInjected: yes",
    "Zero\u200bWidth\u2066Isolate",
    "Z̷̢̛a̸l̶g̵o̴ Person",
    "A" * 120,
)

SPAM_TEXTS: tuple[str, ...] = (
    "🔥 Make $$$ from home, DM me: https://bit.ly/fast-cash-{n}",
    "Join my crypto channel https://t.me/moon{n} 🚀🚀🚀",
    "FREE iPhone giveaway!!! https://free-phone.example/claim?id={n}",
    "Check this out https://spam.example/{n} https://spam.example/{n}/2 https://spam.example/x",
    "Earn 500€/day — https://wa.me/000000{n}",
)

HOSTILE_TEXTS: tuple[str, ...] = (
    "[@click=app.quit]tap here to see your order[/]",
    "[link=https://x.test]tracking[/link] is ready",
    "\x1b[2J\x1b[Hscreen cleared?",
    "\x1b]52;c;ZXZpbA==\x07copy this",
    "price: [bold]$0[/bold] [ unbalanced",
    "\u202eevil.exe\u202c is just a photo",
    "line one\rline two overwrite",
    "bell\x07\x07 and DEL\x7f and C1\x9b31m",
)

CHAT_LINES: tuple[str, ...] = (
    "Hi all 👋",
    "When is the delivery?",
    "I'm at the gate, where do I leave it?",
    "¿A qué hora llega el pedido?",
    "Спасибо! Всё получили.",
    "شكرا جزيلا على المساعدة",
    "תודה רבה!",
    "धन्यवाद, कल मिलते हैं",
    "谢谢，明天见",
    "ขอบคุณครับ",
    "Obrigado! Chegou tudo certo 🙏",
    "Merci, à demain !",
    "Can someone share the invoice again?",
    "Running 10 minutes late 🚗💨",
    "👍",
    "Is the meeting still on for Friday?",
    "Kann jemand die Adresse schicken?",
    "Grazie mille 😊",
    "Teşekkürler, harika!",
    "See the attached photo",
    "Order 1042 arrived damaged 😞",
    "Noted, thanks.",
    "Please call me when you are here: +44 7700 900123",
    "Terima kasih banyak!",
    "Long message: " + "lorem ipsum dolor sit amet " * 20,
    "Multi\nline\nmessage",
    "[b]this is not bold[/b] and 5 [x] 3",
)

CAPTIONS: tuple[str, ...] = (
    "Proof of delivery",
    "Receipt 📄",
    "Here is the damage",
    "Our menu",
    "Фото заказа",
    "صورة الطلب",
    "",
    "Invoice 1042",
    "Look 😍",
)


@dataclass(frozen=True, slots=True)
class Person:
    """One simulated WhatsApp user.

    Attributes:
        wa_id: Phone digits in E.164 without the ``+``.
        name: WhatsApp profile name (may be hostile on purpose).
        country: ISO region of the number.
        user_id: Business-scoped user id (BSUID), sent only when the BSUID knob is on.
        username: Optional WhatsApp username.
        phone_hidden: Adopted a username and hides the phone number: with the BSUID knob
            on, payloads name this person by ``user_id`` only, without ``wa_id``
            (reference 3.9). ``wa_id`` stays the simulator's own key for them.
        spammer: Posts link floods, bursts and the same text in several groups.
        hostile: Has a name built to break unsafe rendering.
        chattiness: Relative likelihood of speaking when their group is active.
    """

    wa_id: str
    name: str
    country: str
    user_id: str
    username: str | None = None
    spammer: bool = False
    hostile: bool = False
    chattiness: float = 1.0
    phone_hidden: bool = False


MARKET_SHARE = 0.85
"""Share of a market's population (``Population(market=...)``) from that market."""

HIDDEN_PHONE_SHARE = 0.15
"""Share of people who adopted a username and hide their phone number."""
_MIN_HIDDEN = 3


def _hide_some_phones(people: list[Person], seed: int) -> list[Person]:
    """Mark a deterministic share of people as known by BSUID only.

    Drawn from a random stream of its own, so that everything else about the population
    (numbers, names, countries) is the same as without it.
    """
    rng = random.Random(f"population:{seed}:hidden-phones")
    hidden = {i for i in range(len(people)) if rng.random() < HIDDEN_PHONE_SHARE}
    while len(hidden) < min(_MIN_HIDDEN, len(people)):
        hidden.add(rng.randrange(len(people)))
    out = []
    for index, person in enumerate(people):
        if index in hidden:
            username = person.username or f"user{rng.randrange(10**6)}"
            person = replace(person, phone_hidden=True, username=username)
        out.append(person)
    return out


def _candidate(rng: random.Random, country: Country) -> str | None:
    """Build one valid number for ``country``, or ``None`` after bounded retries."""
    example = phonenumbers.example_number_for_type(
        country.iso2, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(country.iso2)
    if example is None:
        return None
    nsn = phonenumbers.national_significant_number(example)
    for _ in range(40):
        if country.prefixes:
            prefix = rng.choice(country.prefixes)
            rest = str(rng.randint(2, 9)) + "".join(
                str(rng.randrange(10)) for _ in range(len(nsn) - len(prefix) - 1)
            )
        else:
            keep = max(2, len(nsn) - 6)
            prefix = nsn[:keep]
            rest = "".join(str(rng.randrange(10)) for _ in range(len(nsn) - keep))
        try:
            number = phonenumbers.parse(f"+{example.country_code}{prefix}{rest}")
        except phonenumbers.NumberParseException:
            continue
        if (
            phonenumbers.is_valid_number(number)
            and phonenumbers.region_code_for_number(number) == country.iso2
        ):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    return None


class Population:
    """A deterministic population of simulated people.

    Every country in :data:`COUNTRIES` gets at least one person; every hostile name is
    used once; a few percent are spammers.

    Args:
        seed: Seed of the ``random.Random`` that builds everyone.
        size: Number of people (at least the number of countries plus hostile names).
        market: ISO region most people come from (the people around a business number
            of that market, :data:`MARKET_SHARE` of them); ``None``: every market by
            weight.
    """

    def __init__(self, seed: int = 7, size: int = 400, market: str | None = None) -> None:
        rng = random.Random(
            f"population:{seed}" if market is None else f"population:{seed}:{market}"
        )
        size = max(size, len(COUNTRIES) + len(HOSTILE_NAMES) + 8)
        countries = list(COUNTRIES)
        # Everyone's country: one per country first, then by weight (or mostly the market).
        chosen: list[Country] = countries + rng.choices(
            countries, weights=[c.weight for c in countries], k=size - len(countries)
        )
        home = next((c for c in countries if c.iso2 == market), None)
        if market is not None and home is None:
            raise ValueError(f"no simulated people from {market!r}")
        if home is not None:
            local = int(size * MARKET_SHARE)
            chosen = [home] * local + chosen[: size - local]
        rng.shuffle(chosen)
        hostile_at = dict(
            zip(rng.sample(range(size), len(HOSTILE_NAMES)), HOSTILE_NAMES, strict=True)
        )
        n_spam = max(3, size // 30)
        spam_at = set(rng.sample(range(size), n_spam))
        people: list[Person] = []
        seen: set[str] = set()
        for index, country in enumerate(chosen):
            wa_id = None
            for _ in range(5):  # bounded: retry on a collision
                candidate = _candidate(rng, country)
                if candidate is not None and candidate not in seen:
                    wa_id = candidate
                    break
            if wa_id is None:
                continue
            seen.add(wa_id)
            hostile_name = hostile_at.get(index)
            spammer = index in spam_at
            if hostile_name is not None:
                name = hostile_name
            elif spammer:
                name = rng.choice(
                    ("Crypto King 💰", "Promo Deals", "Best Offers 24/7", "Lottery ✅")
                )
            else:
                name = self._name(rng, country)
            people.append(
                Person(
                    wa_id=wa_id,
                    name=name,
                    country=country.iso2,
                    user_id=f"{country.iso2}.{rng.getrandbits(63)}",
                    username=f"user{rng.randrange(10**6)}" if rng.random() < 0.2 else None,
                    spammer=spammer,
                    hostile=hostile_name is not None,
                    chattiness=round(rng.uniform(0.2, 3.0), 2),
                )
            )
        people = _hide_some_phones(people, seed)
        self.people: list[Person] = people
        self.by_wa_id: dict[str, Person] = {p.wa_id: p for p in people}
        self.by_user_id: dict[str, Person] = {p.user_id: p for p in people}
        self._spammers = [p for p in people if p.spammer]
        self._hostile = [p for p in people if p.hostile]

    @staticmethod
    def _name(rng: random.Random, country: Country) -> str:
        scripts: Sequence[str] = country.scripts
        weights = [6.0] + [2.0] * (len(scripts) - 1)
        script = rng.choices(list(scripts), weights=weights)[0]
        name = rng.choice(_NAMES[script])
        roll = rng.random()
        if roll < 0.06:
            name = rng.choice(_NAMES["emoji"])
        elif roll < 0.12:
            name = f"{name} {rng.choice(('😀', '🙏', '🌍', '❤️', '✈️', '🇺🇳'))}"
        return name

    def __len__(self) -> int:
        return len(self.people)

    @property
    def spammers(self) -> list[Person]:
        """People who spam."""
        return self._spammers

    @property
    def hostile(self) -> list[Person]:
        """People whose names are built to break unsafe rendering."""
        return self._hostile

    def countries(self) -> set[str]:
        """ISO region codes present in the population."""
        return {p.country for p in self.people}

    def get(self, wa_id: str) -> Person | None:
        """Look a person up by ``wa_id``."""
        return self.by_wa_id.get(wa_id)

    def by_bsuid(self, user_id: str) -> Person | None:
        """Look a person up by business-scoped user id."""
        return self.by_user_id.get(user_id)

    def add(self, person: Person) -> None:
        """Add someone met later (an invited number, a test's own person)."""
        self.people.append(person)
        self.by_wa_id[person.wa_id] = person
        self.by_user_id[person.user_id] = person

    def meet(self, wa_id: str) -> Person:
        """The person with number ``wa_id``, added first if the population lacks them.

        Someone met this way (an invited number, a test's own person) is named by their
        number and placed in the region the number belongs to (``ZZ`` when unknown).
        """
        person = self.by_wa_id.get(wa_id)
        if person is None:
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse("+" + wa_id))
            except phonenumbers.NumberParseException:
                region = None
            person = Person(
                wa_id=wa_id,
                name=f"+{wa_id}",
                country=region or "ZZ",
                user_id=f"{region or 'ZZ'}.{wa_id}",
            )
            self.add(person)
        return person

    @property
    def phone_hidden(self) -> list[Person]:
        """People who hide their phone number (known by BSUID only, knob permitting)."""
        return [p for p in self.people if p.phone_hidden]
