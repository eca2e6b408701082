"""The sample site's stories: one data table from which both the pages and the truth are made.

The Harbour Gazette, Porthaven, and everyone in these stories are invented, except the one
wire story ("Kim Departs Russia…"), whose text is the agency copy used by the test fixtures.
Body blocks are tuples, so a story reads top to bottom as it appears on the page:

* ``("p", text)``: a paragraph; ``[label](https://…)`` in it is an ordinary inline link
* ``("h2", text)``, ``("ul", (item, …))``, ``("quote", (paragraph, …))``
* ``Also(...)``: an ALSO READ line, which a reader skips and an extractor takes out
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

SITE_NAME = "The Harbour Gazette"
POSTAL_ADDRESS = "1 Quay Street, Porthaven"  # in the site's footer and the demo's emails
TIMEZONE = "Europe/London"
TZ = ZoneInfo(TIMEZONE)
SECTIONS = {"world": "World", "business": "Business", "culture": "Culture"}

# How the ALSO READ line is written; {a} is the link (or the bare title when unlinked).
FORMS = {
    "strong-colon": "<strong>ALSO READ:</strong> {a}",
    "strong-dash": "<strong>ALSO READ</strong> – {a}",
    "read-also-dash": "READ ALSO – {a}",
    "read-also-colon": "READ ALSO: {a}",
    "pipe": "Also Read | {a}",
    "hyphen": "ALSO READ-{a}",
    "colon": "ALSO READ: {a}",
}


@dataclass(frozen=True)
class Also:
    """One ALSO READ line.

    ``target`` is another story's slug, or an external URL (then ``title`` is required).
    ``link`` says how the href is written: absolute, relative to the page, absolute with
    tracking parameters, or no link at all (the reader is left with the title).
    """

    form: str
    target: str
    link: Literal["absolute", "relative", "utm", "none"] = "absolute"
    title: str = ""

    @property
    def external(self) -> bool:
        """True when the line points off the site."""
        return self.target.startswith(("http://", "https://"))

    @property
    def label(self) -> str:
        """The title the line shows: the target story's exact title, or the given one."""
        return self.title or by_slug(self.target).title


Block = tuple[str, str] | tuple[str, tuple[str, ...]] | Also


@dataclass(frozen=True)
class Article:
    """A story as the newsroom filed it. Times are local (Europe/London), minute precision."""

    slug: str
    section: str
    title: str
    standfirst: str
    author: str
    published: str  # "YYYY-MM-DD HH:MM", local time
    tags: tuple[str, ...]
    body: tuple[Block, ...]
    modified: str | None = None
    image: bool = True
    caption: str | None = None
    json_ld: bool = True  # else OpenGraph + article:* meta
    listed: bool = True  # False: reachable only through an ALSO READ link

    @property
    def published_at(self) -> datetime:
        """When the story was first published, as an aware datetime."""
        return _local(self.published)

    @property
    def changed_at(self) -> datetime:
        """When the story last changed: its Last-Modified and sitemap lastmod."""
        return _local(self.modified or self.published)

    @property
    def path(self) -> str:
        """The story's URL path, dated like many news sites: /2024/05/14/world/slug/."""
        return f"/{self.published_at:%Y/%m/%d}/{self.section}/{self.slug}/"


def _local(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def slugify(name: str) -> str:
    """A name as a URL slug: 'Morwenna Hale' → 'morwenna-hale'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def by_slug(slug: str) -> Article:
    """The story with this slug."""
    return next(a for a in ARTICLES if a.slug == slug)


def listed(section: str | None = None, author: str | None = None) -> list[Article]:
    """Listed stories, newest first, optionally of one section or author; never the orphan."""
    found = [
        a
        for a in ARTICLES
        if a.listed and section in (None, a.section) and author in (None, a.author)
    ]
    return sorted(found, key=lambda a: a.published_at, reverse=True)


ARTICLES: tuple[Article, ...] = (
    Article(
        slug="coastal-states-sign-pact-to-cut-plastic-in-fishing-gear",
        section="world",
        title="Coastal States Sign Pact to Cut Plastic in Fishing Gear",
        standfirst="Eleven governments agree to phase out the most polluting nets and pay crews "
        "for returned gear, but campaigners say the deadline is too distant",
        author="Morwenna Hale",
        published="2024-05-02 09:10",
        tags=("fishing", "plastics", "oceans"),
        caption="Nets drying on the east quay at Porthaven.",
        body=(
            (
                "p",
                "Eleven coastal states signed an agreement on Thursday to phase out the fishing "
                "gear most likely to end up drifting at sea, in what negotiators called the first "
                "binding deal of its kind in the North Atlantic.",
            ),
            (
                "p",
                "The pact, concluded after three days of talks in a conference hall overlooking "
                "the harbour, commits signatories to ban the sale of monofilament gillnets longer "
                "than two kilometres from 2028 and to set up deposit schemes that pay crews for "
                "every net brought back to port.",
            ),
            ("h2", "Who pays for the nets"),
            (
                "p",
                "Ports will collect the returned gear free of charge, and the cost will be met "
                "by a levy on manufacturers rather than on fishing crews, a point that smaller "
                "fleets had pressed hard for. Officials estimate the levy will add less than three "
                "per cent to the price of a new net.",
            ),
            (
                "ul",
                (
                    "A ban on the longest monofilament gillnets from 2028",
                    "Deposit-return schemes for nets and pots in every signatory state",
                    "Tags on all new gear, so that lost nets can be traced to their owners",
                    "A shared fund for clearing ghost nets from reefs and wrecks",
                ),
            ),
            (
                "p",
                "Lost and abandoned gear makes up a large share of the plastic found on the "
                "sea floor, according to [a survey published last year]"
                "(https://www.example.org/reports/ghost-gear-survey) that delegates cited "
                "repeatedly during the talks.",
            ),
            (
                "p",
                "Environmental groups welcomed the deal but said the 2028 start was too slow. "
                "“Every season we wait is another season of nets fishing on their own,” said a "
                "spokeswoman for a coalition of marine charities.",
            ),
            (
                "p",
                "The agreement will come into force once seven states have ratified it. Several "
                "delegations said they expected their parliaments to vote before the end of the "
                "year.",
            ),
        ),
    ),
    Article(
        slug="porthaven-shipyard-wins-order-for-three-electric-ferries",
        section="business",
        title="Porthaven Shipyard Wins Order for Three Electric Ferries",
        standfirst="The contract, worth an estimated £84m, secures about 400 jobs at the yard "
        "until at least 2027",
        author="Tobias Quayle",
        published="2024-05-03 11:00",
        tags=("shipbuilding", "jobs", "ferries"),
        caption="The building hall at Porthaven’s last working shipyard.",
        body=(
            (
                "p",
                "Porthaven’s last remaining shipyard has won an order for three battery-electric "
                "ferries, a contract that managers said would secure about 400 jobs until at least "
                "2027.",
            ),
            (
                "p",
                "The vessels, each able to carry 40 cars and 300 passengers, will serve short "
                "crossings in sheltered waters. They will recharge at the quayside during the ten "
                "minutes it takes to unload and load.",
            ),
            (
                "p",
                "The order is the largest the yard has taken since it was bought out of "
                "administration by its managers and a group of local investors six years ago. Its "
                "value was not disclosed, but industry analysts put it at about £84m.",
            ),
            ("h2", "Apprentices wanted"),
            (
                "p",
                "The yard plans to take on 35 apprentices this autumn, double last year’s "
                "intake, and is working with the further education college on a course in marine "
                "electrical systems.",
            ),
            (
                "ul",
                (
                    "Steel cutting on the first hull is due to start in January",
                    "The first ferry should be handed over in spring 2026",
                    "All three are due in service by the end of 2027",
                ),
            ),
            (
                "p",
                "Union officials said the contract was a vote of confidence in the workforce. "
                "“People here have heard a lot of promises,” one said. “This one comes with a "
                "signature on it.”",
            ),
        ),
    ),
    Article(
        slug="lifeboat-museum-reopens-with-a-restored-1930s-rescue-boat",
        section="culture",
        title="Lifeboat Museum Reopens With a Restored 1930s Rescue Boat",
        standfirst="Volunteers spent four years rebuilding the Margaret Ellen, which saved more "
        "than 200 lives in three decades of service",
        author="Priya Castellan",
        published="2024-05-04 10:15",
        tags=("museums", "lifeboats", "history"),
        caption="The Margaret Ellen back under cover on the west quay.",
        body=(
            (
                "p",
                "The lifeboat museum on the west quay reopened on Saturday after an "
                "eighteen-month refurbishment, with a newly restored 1930s rescue boat as its "
                "centrepiece.",
            ),
            (
                "p",
                "The Margaret Ellen served the town from 1934 to 1966 and is credited with "
                "saving more than 200 lives. She spent twenty years as a pleasure boat on an "
                "inland lake before a group of volunteers bought her back for a pound in 2019.",
            ),
            (
                "p",
                "Restoring her took four years. Much of the original larch planking had rotted, "
                "and volunteers learned to steam and fit new planks from a retired boatbuilder who "
                "had served his apprenticeship in the yard that built her.",
            ),
            (
                "p",
                "The museum has also added a gallery of oral histories, in which former crew "
                "members and their families describe the night rescues that made the station’s "
                "name.",
            ),
            (
                "p",
                "Entry remains free. The museum is open daily from 10am to 5pm until the end of "
                "October.",
            ),
        ),
    ),
    Article(
        slug="storm-season-forecast-prompts-early-flood-drills",
        section="world",
        title="Storm Season Forecast Prompts Early Flood Drills Across the North Sea Coast",
        standfirst="Emergency services in four countries are rehearsing evacuations weeks ahead "
        "of schedule after forecasters warned of a wetter, stormier autumn",
        author="Morwenna Hale",
        published="2024-05-07 07:45",
        tags=("weather", "flooding", "emergency services"),
        caption="Firefighters practise a rescue from a flooded street.",
        json_ld=False,
        body=(
            (
                "p",
                "Emergency services along the North Sea coast have brought forward their annual "
                "flood drills by almost two months, after seasonal forecasters warned that the "
                "coming autumn is likely to be wetter and stormier than average.",
            ),
            (
                "p",
                "The exercises, which began on Monday, simulate a storm surge arriving at high "
                "tide and test how quickly towns can move residents out of low-lying streets. In "
                "Porthaven, volunteers played the part of care-home residents while firefighters "
                "practised moving them to the sports centre on the hill.",
            ),
            Also("read-also-dash", "coastal-states-sign-pact-to-cut-plastic-in-fishing-gear"),
            (
                "p",
                "Forecasters stressed that a seasonal outlook is a statement about "
                "probabilities, not a prediction of particular storms. But they said warmer sea "
                "temperatures had loaded the dice towards heavier rainfall.",
            ),
            (
                "p",
                "Coastal councils have been criticised in the past for drills that ran to a "
                "script. This year, organisers said, crews were given the scenario only an hour "
                "before it began, and several roads were closed without warning to see how "
                "traffic would cope.",
            ),
            (
                "p",
                "The results will be published in July, when the agencies meet to agree "
                "changes before the first autumn storms.",
            ),
        ),
    ),
    Article(
        slug="harbour-rents-rise-as-warehouse-space-runs-short",
        section="business",
        title="Harbour Rents Rise as Warehouse Space Runs Short",
        standfirst="Vacancy rates on the port estate have fallen below two per cent, pushing up "
        "costs for small importers",
        author="Tobias Quayle",
        published="2024-05-09 08:30",
        tags=("property", "logistics"),
        caption="Warehouses on the harbour estate.",
        json_ld=False,
        body=(
            (
                "p",
                "Rents for warehouses on the harbour estate have risen by almost a fifth in a "
                "year, as demand from online retailers and food importers outstrips the supply of "
                "space, according to figures from local letting agents.",
            ),
            (
                "p",
                "Fewer than two in every hundred units on the estate stood empty in April, the "
                "lowest vacancy rate since records began. Agents said some tenants had agreed to "
                "pay more than the asking rent to secure a lease.",
            ),
            (
                "p",
                "Small importers say they are being squeezed out. The owner of Trevane & "
                "Daughters, a family firm that imports olive oil and tinned fish, said its latest "
                "rent review had come in 23 per cent higher than the one before.",
            ),
            Also("pipe", "porthaven-shipyard-wins-order-for-three-electric-ferries", "utm"),
            (
                "p",
                "The port authority has outline permission for two new warehouse blocks on "
                "reclaimed land at the eastern end of the estate, but construction is not "
                "expected to start before next year.",
            ),
            (
                "p",
                "Letting agents expect rents to keep rising until the new space is available, "
                "though more slowly than over the past twelve months.",
            ),
        ),
    ),
    Article(
        slug="ferry-operators-agree-shared-timetable-for-island-routes",
        section="world",
        title="Ferry Operators Agree Shared Timetable for Island Routes",
        standfirst="Passengers travelling between the outer islands will be able to make "
        "connections on a single ticket from the summer",
        author="Idris Penhallow",
        published="2024-05-10 12:30",
        tags=("ferries", "transport", "islands"),
        caption=None,  # a lead picture without a caption
        body=(
            (
                "p",
                "Three ferry companies that serve the outer islands have agreed to run to a "
                "shared timetable from July, ending years of complaints from passengers who "
                "arrived at a port just as the connecting boat was leaving.",
            ),
            (
                "p",
                "Under the arrangement, departures on the main routes will be spaced so that no "
                "connection needs a wait of more than forty minutes, and a single ticket will "
                "cover journeys that use more than one operator.",
            ),
            (
                "p",
                "Island councils, which have campaigned for joined-up services for more than a "
                "decade, called the deal overdue but welcome. Tourism businesses said it could "
                "add several weeks to a season that now ends when the summer sailings stop.",
            ),
            (
                "p",
                "The operators said fares would not rise as a result, although they did not "
                "rule out changes next year as fuel contracts come up for renewal.",
            ),
        ),
    ),
    Article(
        slug="sea-shanty-festival-returns-to-the-quayside",
        section="culture",
        title="Sea Shanty Festival Returns to the Quayside",
        standfirst="Forty choirs from around the coast are expected for three days of singing, "
        "workshops and a torchlit parade",
        author="Priya Castellan",
        published="2024-05-11 18:00",
        tags=("music", "festivals"),
        caption="Singers on the quay at the last festival, two years ago.",
        json_ld=False,
        body=(
            (
                "p",
                "The sea shanty festival returns to the quayside next weekend after a two-year "
                "break, with forty choirs from around the coast booked to sing on five outdoor "
                "stages.",
            ),
            (
                "p",
                "Organisers said the festival had been paused because of the cost of insurance "
                "and stewarding, and was revived after local businesses agreed to underwrite it. "
                "Tickets for the evening concerts in the fish market sold out within a day.",
            ),
            ("h2", "What’s on"),
            (
                "ul",
                (
                    "Friday: open-air singing on the quay from 6pm, then a torchlit parade",
                    "Saturday: workshops on harmony and rhythm for beginners at the sailing club",
                    "Sunday: the combined choirs sing together on the breakwater at noon",
                ),
            ),
            (
                "p",
                "Daytime events are free. Organisers have asked visitors to use the "
                "park-and-ride, as the quayside car parks will be closed for the weekend.",
            ),
            Also("strong-colon", "lifeboat-museum-reopens-with-a-restored-1930s-rescue-boat"),
        ),
    ),
    Article(
        slug="grain-ships-resume-sailings-after-port-strike-ends",
        section="world",
        title="Grain Ships Resume Sailings After Port Strike Ends",
        standfirst="Dock workers returned to the quays after a nine-day stoppage that left a "
        "queue of vessels waiting at anchor offshore",
        author="Morwenna Hale",
        published="2024-05-14 16:20",
        modified="2024-05-14 19:05",
        tags=("shipping", "strikes", "trade"),
        caption="Bulk carriers at anchor off the harbour mouth during the strike.",
        body=(
            (
                "p",
                "Grain ships began leaving port on Tuesday afternoon for the first time in nine "
                "days, after dock workers voted to accept a revised pay offer and returned to the "
                "quays.",
            ),
            (
                "p",
                "At the height of the strike more than thirty vessels were waiting at anchor "
                "offshore, and shipping agents said it would take at least a week to clear the "
                "backlog. Cargoes of wheat and barley bound for ports further south were given "
                "priority.",
            ),
            (
                "p",
                "The union’s branch secretary, speaking at the gates as the morning shift went "
                "in, said members had been reluctant to walk out.",
            ),
            (
                "quote",
                (
                    "We did not want to strike, and we are glad to be back.",
                    "But the offer on the table in April was not one anyone could live on, and the "
                    "night shifts were running with half the people they need.",
                ),
            ),
            (
                "p",
                "The port operator said the agreement included a pay rise of 6.5 per cent this "
                "year and a commitment to recruit forty more crane drivers and lashers by the "
                "autumn.",
            ),
            Also("colon", "ferry-operators-agree-shared-timetable-for-island-routes", "relative"),
            (
                "p",
                "Traders said the stoppage had briefly pushed up freight rates on regional "
                "routes, though prices eased on Tuesday as news of the vote spread.",
            ),
        ),
    ),
    Article(
        slug="harbour-photographers-archive-finds-a-permanent-home",
        section="culture",
        title="Harbour Photographer’s Archive Finds a Permanent Home",
        standfirst="More than 30,000 negatives recording six decades of working life on the "
        "waterfront will be catalogued and put online",
        author="Priya Castellan",
        published="2024-05-18 09:00",
        tags=("photography", "archives", "history"),
        caption="Herring drifters leaving harbour, photographed in 1958.",
        body=(
            (
                "p",
                "More than 30,000 negatives taken by a photographer who recorded life on the "
                "waterfront for six decades are to be kept permanently at the town library, which "
                "plans to catalogue them and put them online.",
            ),
            (
                "p",
                "Edith Rowe, who died last year aged 91, began photographing the harbour as a "
                "teenager with a borrowed camera. Her pictures show fish auctions, launches at the "
                "shipyard, the great freeze of 1963 and the slow disappearance of the herring "
                "fleet.",
            ),
            (
                "p",
                "Her family had kept the negatives in biscuit tins in a garage. A conservator "
                "who examined them said most were in remarkably good condition, although some "
                "from the 1950s had begun to stick together.",
            ),
            (
                "p",
                "The library has raised £60,000 to pay an archivist for two years. Volunteers "
                "will help identify the people in the photographs, many of whom still live in "
                "the town.",
            ),
            Also("colon", "sea-shanty-festival-returns-to-the-quayside", "none"),
            (
                "p",
                "A first selection of fifty prints will go on display in the library’s reading "
                "room in September.",
            ),
        ),
    ),
    Article(
        slug="kim-departs-russia-after-six-day-visit",
        section="world",
        title="Kim Departs Russia After Six-Day Visit",
        standfirst="Kim and Shoigu met in Vladivostok and talked about strengthening bilateral "
        "military cooperation and exchanges, according to the official Korean Central News "
        "Agency (KCNA)",
        author="Gazette Wire Desk",
        published="2024-05-19 10:40",
        tags=("North Korea", "Russia", "defence"),
        image=False,
        json_ld=False,
        body=(
            (
                "p",
                "North Korean leader Kim Jong-un left Russia on his armoured train Sunday to "
                "return home following a six-day visit to the country, Russian media said.",
            ),
            (
                "p",
                "The train carrying Kim departed the railway station in Russia’s Far Eastern "
                "city of Artyom as Russian officials saw him off, RIA Novosti news agency said. "
                "Kim also waved and gave a salute to the Russian officials, Yonhap news agency "
                "reported.",
            ),
            (
                "p",
                "The North Korean leader visited Russia at the invitation of President Vladimir "
                "Putin. On Wednesday, the two held a summit at the Vostochny space center amid "
                "growing concern about possible military cooperation between the two countries.",
            ),
            (
                "p",
                "Earlier on Sunday, North Korean state media reported on Kim’s talks with "
                "Russian Defence Minister Sergei Shoigu the previous day.",
            ),
            (
                "p",
                "Kim and Shoigu met in Vladivostok and talked about strengthening bilateral "
                "military cooperation and exchanges, according to the official Korean Central "
                "News Agency (KCNA).",
            ),
            (
                "p",
                "They “exchanged their constructive opinions on the practical issues arising in "
                "further strengthening the strategic and tactical coordination, cooperation and "
                "mutual exchange between the armed forces of the two countries and in the fields "
                "of their national defence and security”, the KCNA said.",
            ),
            (
                "p",
                "Earlier on Saturday, Kim also visited the Knevichi Airbase, where he inspected "
                "strategic bombers, multi-role fighter jets and other warplanes, as well as "
                "Russia’s Pacific Sea Fleet to board the Marshal Shaposhnikov frigate, it said.",
            ),
            Also(
                "hyphen",
                "https://www.example.org/asia/kim-jong-un-impressed-by-russian-aerospace-tech/",
                title="Kim Jong-un Impressed by Russian Aerospace Tech During Visit",
            ),
        ),
    ),
    Article(
        slug="chandlers-report-best-spring-in-a-decade",
        section="business",
        title="Chandlers Report Best Spring in a Decade",
        standfirst="A late Easter and a run of settled weather sent boat owners back to the "
        "marina shops in numbers not seen since 2014",
        author="Idris Penhallow",
        published="2024-05-21 13:15",
        tags=("retail", "sailing"),
        image=False,
        listed=False,  # the orphan: only the port authority story links to it
        body=(
            (
                "p",
                "The town’s chandlers have had their busiest spring in ten years, helped by a "
                "late Easter, a run of settled weather and a growing number of people keeping "
                "small boats on the river.",
            ),
            (
                "p",
                "Sales of rope, antifouling paint and safety equipment were all up on last "
                "year, according to a survey of marina businesses by the chamber of commerce. "
                "Several shops said they had run out of lifejackets in children’s sizes by the "
                "end of April.",
            ),
            (
                "p",
                "Owners said the picture was less rosy for larger items. Outboard motors and "
                "electronics, which depend on buyers with bigger boats, sold in roughly the same "
                "numbers as in 2023.",
            ),
            Also("read-also-colon", "harbour-rents-rise-as-warehouse-space-runs-short"),
            (
                "p",
                "The chamber said it would repeat the survey in the autumn to see whether the "
                "strong start to the season had lasted.",
            ),
        ),
    ),
    Article(
        slug="port-authority-posts-record-cargo-year-but-warns-on-dredging-costs",
        section="business",
        title="Port Authority Posts Record Cargo Year but Warns on Dredging Costs",
        standfirst="More than six million tonnes crossed the quays in 2023, but keeping the "
        "channel deep enough for larger ships will cost more than expected",
        author="Tobias Quayle",
        published="2024-05-23 10:00",
        modified="2024-05-24 09:30",
        tags=("port", "trade", "dredging"),
        caption="A dredger at work in the approach channel.",
        body=(
            (
                "p",
                "Porthaven’s port authority handled more than six million tonnes of cargo last "
                "year, a record, but warned that the cost of keeping its approach channel deep "
                "enough for modern ships was rising faster than its income.",
            ),
            (
                "p",
                "Its annual report, published on Thursday, showed growth in almost every trade. "
                "Timber and animal feed imports were up by more than ten per cent, and the number "
                "of cruise calls rose from 31 to 44.",
            ),
            (
                "ul",
                (
                    "Cargo handled: 6.2 million tonnes, up from 5.7 million",
                    "Cruise ship calls: 44, up from 31",
                    "Operating profit: £11.4m, up from £9.8m",
                    "Dredging spend: £3.1m, up from £2.2m",
                ),
            ),
            ("h2", "A deeper channel"),
            (
                "p",
                "The channel must be dredged every year to stay at its charted depth, and the "
                "authority said the larger ships now calling needed another metre of water at low "
                "tide. A consultation on deepening the channel will open in the summer.",
            ),
            Also("strong-dash", "chandlers-report-best-spring-in-a-decade"),
            (
                "p",
                "The chief executive said the authority would not seek public money for the "
                "work but might raise harbour dues, a move shipping lines are likely to resist.",
            ),
            Also("strong-colon", "porthaven-shipyard-wins-order-for-three-electric-ferries"),
        ),
    ),
    Article(
        slug="open-air-theatre-stages-the-tempest-on-the-breakwater",
        section="culture",
        title="Open-Air Theatre Stages The Tempest on the Breakwater",
        standfirst="A touring company will perform Shakespeare’s island play with the sea as its "
        "backdrop, weather permitting",
        author="Priya Castellan",
        published="2024-05-25 19:30",
        modified="2024-05-26 08:00",
        tags=("theatre", "Shakespeare"),
        caption="The breakwater, where the stage will be built.",
        json_ld=False,
        body=(
            (
                "p",
                "A touring theatre company will stage The Tempest on the harbour breakwater "
                "this summer, with the open sea as its backdrop and the tide deciding when each "
                "performance can begin.",
            ),
            (
                "p",
                "The company has performed on beaches and clifftops before, but its director "
                "said the breakwater was the most demanding site it had worked with. Audiences "
                "will sit on tiered seating built on the old fish quay, with the stage at the far "
                "end of the wall.",
            ),
            Also("strong-colon", "harbour-photographers-archive-finds-a-permanent-home"),
            (
                "p",
                "Performances will start two hours before high water, so that the sea is "
                "rising around the stage during the storm scene that opens the play. Start times "
                "therefore change from night to night.",
            ),
            (
                "p",
                "Rehearsals begin next month. The run of twelve performances opens on 19 July, "
                "and tickets go on sale on Monday.",
            ),
            (
                "p",
                "Safety boats will be on the water throughout each performance, and the harbour "
                "master has agreed to keep smaller vessels out of the outer harbour during the "
                "show.",
            ),
        ),
    ),
    Article(
        slug="aid-flotilla-reaches-flood-hit-delta-after-a-week-at-sea",
        section="world",
        title="Aid Flotilla Reaches Flood-Hit Delta After a Week at Sea",
        standfirst="Six vessels loaded with water purifiers, tents and generators arrived as "
        "the flood waters began to recede",
        author="Idris Penhallow",
        published="2024-05-27 08:05",
        tags=("aid", "flooding", "shipping"),
        caption="Relief supplies being loaded before the flotilla sailed.",
        body=(
            (
                "p",
                "A flotilla of six vessels carrying water purifiers, tents and generators "
                "reached the flood-hit delta on Monday morning, a week after leaving northern "
                "European ports.",
            ),
            (
                "p",
                "Relief agencies said the cargo would be moved upriver on smaller boats, "
                "because many of the roads into the region remain under water. The first "
                "consignments were expected to reach the worst-affected villages by Wednesday.",
            ),
            ("h2", "Clean water first"),
            (
                "p",
                "Water purification units were loaded last so they could be unloaded first. "
                "Doctors working in temporary clinics have warned that the greatest danger in the "
                "coming weeks is disease carried by dirty water rather than the floods "
                "themselves.",
            ),
            (
                "p",
                "Two of the ships were chartered from operators based in Porthaven, whose crews "
                "volunteered for the voyage at a few days’ notice. One captain said the crossing "
                "had been calm until the final two days, when a gale forced the flotilla to slow "
                "down.",
            ),
            Also("pipe", "storm-season-forecast-prompts-early-flood-drills"),
            (
                "p",
                "Agencies said further sailings would depend on how quickly the harbour at the "
                "river mouth could be cleared of debris.",
            ),
        ),
    ),
)
