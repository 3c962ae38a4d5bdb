"""The NGO's own Take Action history and pages, and an open campaign for the demo.

``seed_content`` adds the April 2020 Mali campaign (closed, with its result) and the
France-Canada Peacekeeping Roadmap page where they are missing; ``seed_demo`` adds an
open campaign that people can sign. Both are idempotent.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from core.db import db
from involve.models import Campaign, ContentPage, DeliveryMethod, PageLink

MALI = {
    "slug": "mali-peacekeeping-april-2020",
    "title_en": "April 2020: Canada and peacekeeping in Mali",
    "title_fr": "Avril 2020 : le Canada et le maintien de la paix au Mali",
    "summary_en": (
        "With partner organizations, we asked Canada to renew its personnel commitment "
        "to the UN mission in Mali."
    ),
    "summary_fr": (
        "Avec des organisations partenaires, nous avons demandé au Canada de renouveler "
        "son engagement en personnel envers la mission de l'ONU au Mali."
    ),
    "body_en": """\
A pandemic is changing lives and livelihoods everywhere, yet some work cannot stop. For the
United Nations, peacekeeping is one of those essential services: missions carry on within
national distancing rules and the other measures against COVID-19, and troops must still
rotate in and out.

Canada's backing for the Secretary-General's call for a global ceasefire is welcome. The UN
also needs urgent help with its peace operations, and Canada is well placed to give it,
above all in Mali.

MINUSMA, the UN mission in Mali, is under practical and financial strain. Its aims matter:
shoring up a peace process that is still fragile, supporting democratic government in Mali,
checking the reach of armed extremist groups and spoilers, building up the national police
and, not least, protecting civilians. A Canadian contribution now would show that Canada's
support for peacekeeping is steady and dependable for the long term, not something that
comes and goes.

## What you can do

Add your voice to the call for Canada to renew its commitment to peacekeeping in Mali: ask
the Prime Minister for a renewed personnel commitment to the mission, including the Quick
Reaction Force that Canada has pledged but not yet registered.
""",
    "body_fr": """\
Une pandémie bouleverse partout les vies et les moyens de subsistance, mais certains travaux
ne peuvent pas s'arrêter. Pour les Nations Unies, le maintien de la paix est l'un de ces
services essentiels : les missions se poursuivent dans le respect des règles nationales de
distanciation et des autres mesures contre la COVID-19, et la relève des troupes doit
toujours avoir lieu.

L'appui du Canada à l'appel du Secrétaire général en faveur d'un cessez-le-feu mondial est
bienvenu. L'ONU a aussi un besoin urgent d'aide pour ses opérations de paix, et le Canada est
bien placé pour l'apporter, surtout au Mali.

La MINUSMA, la mission de l'ONU au Mali, subit des pressions pratiques et financières. Ses
objectifs comptent : consolider un processus de paix encore fragile, soutenir la gouvernance
démocratique au Mali, limiter l'influence des groupes extrémistes armés et des fauteurs de
troubles, renforcer la police nationale et, surtout, protéger les civils. Une contribution
canadienne maintenant montrerait que l'appui du Canada au maintien de la paix est constant et
fiable à long terme, et non ponctuel.

## Ce que vous pouvez faire

Joignez votre voix à l'appel pour que le Canada renouvelle son engagement envers le maintien
de la paix au Mali : demandez au premier ministre un engagement renouvelé en personnel pour
la mission, y compris la Force de réaction rapide que le Canada a promise mais pas encore
inscrite.
""",
    "letter_en": """\
Dear Prime Minister,

Peacekeeping is an essential service that must go on through the COVID-19 pandemic, and the
United Nations urgently needs countries that will help sustain it.

I ask that Canada make provision for a renewed personnel commitment to the UN peace operation
in Mali, including the Quick Reaction Force that Canada has pledged but not yet registered.

A contribution now would help the mission support Mali's fragile peace process and its
democratic institutions, protect civilians and strengthen the national police. It would
also show that Canada's support for UN peacekeeping is constant and long-term.

Respectfully,""",
    "letter_fr": """\
Monsieur le Premier Ministre,

Le maintien de la paix est un service essentiel qui doit se poursuivre pendant la pandémie de
COVID-19, et les Nations Unies ont un besoin urgent de pays qui l'appuient.

Je demande que le Canada prévoie un engagement renouvelé en personnel pour l'opération de
paix de l'ONU au Mali, y compris la Force de réaction rapide que le Canada a promise mais pas
encore inscrite.

Une contribution maintenant aiderait la mission à soutenir le processus de paix encore
fragile du Mali et ses institutions démocratiques, à protéger les civils et à renforcer la
police nationale. Elle montrerait aussi que l'appui du Canada au maintien de la paix de
l'ONU est constant et durable.

Veuillez agréer, Monsieur le Premier Ministre, l'expression de ma haute considération.""",
    "result_en": """\
Our letter went to Prime Minister Trudeau, signed by the World Federalist Movement – Canada
together with Artistes pour la Paix, Canadian Pugwash, Project Ploughshares and the Rideau
Institute. With it went a two-page brief by WFMC President Dr. Walter Dorn explaining in
more detail why the mission in Mali is a good fit for Canada.

Our project Canadians for UN Peacekeeping follows Canada's peacekeeping commitments since.
""",
    "result_fr": """\
Notre lettre a été envoyée au premier ministre Trudeau, signée par le Mouvement fédéraliste
mondial – Canada avec Artistes pour la Paix, Pugwash Canada, Project Ploughshares et
l'Institut Rideau. Elle était accompagnée d'une note de deux pages de Walter Dorn, président du
MFM-C, qui explique plus en détail pourquoi la mission au Mali convient bien au Canada.

Notre projet Canadiens pour le maintien de la paix de l'ONU suit depuis les engagements du
Canada en matière de maintien de la paix.
""",
    "recipient_name_en": "The Right Honourable Justin Trudeau, Prime Minister of Canada",
    "recipient_name_fr": "Le très honorable Justin Trudeau, premier ministre du Canada",
    "recipient_address": "Office of the Prime Minister\n80 Wellington Street\nOttawa ON  K1A 0A2",
    "starts_on": date(2020, 4, 1),
    "ends_on": date(2020, 4, 30),
    "delivery": DeliveryMethod.pdf,
}

DEMO_CAMPAIGN = {
    "slug": "keep-canadas-peacekeeping-promises",
    "title_en": "Keep Canada's peacekeeping promises",
    "title_fr": "Tenir les promesses du Canada envers le maintien de la paix",
    "summary_en": (
        "Pledges help UN peace operations only once they arrive. Ask the Prime Minister to "
        "deliver them."
    ),
    "summary_fr": (
        "Les promesses n'aident les opérations de paix de l'ONU qu'une fois tenues. "
        "Demandez au premier ministre de les concrétiser."
    ),
    "body_en": """\
UN peace operations protect civilians and hold fragile ceasefires together in some of the
hardest places on earth. They depend on countries that send trained people, equipment and
money, and that keep sending them.

Canada has made pledges to UN peacekeeping: specialized units, training, and more women in
peace operations. A pledge helps only once it is delivered. Support that is steady and
dependable lets missions plan; support that comes and goes leaves gaps that others must
fill at short notice.

## What you can do

Sign the letter below. Your signature is sent to the Prime Minister with your name and
postal code, so that the government hears from people in every riding.
""",
    "body_fr": """\
Les opérations de paix de l'ONU protègent des civils et consolident des cessez-le-feu
fragiles dans certains des endroits les plus difficiles du monde. Elles dépendent des pays
qui y envoient du personnel formé, du matériel et des fonds, et qui continuent de le faire.

Le Canada a pris des engagements envers le maintien de la paix de l'ONU : unités
spécialisées, formation, et davantage de femmes dans les opérations de paix. Une promesse
n'aide qu'une fois tenue. Un appui constant et fiable permet aux missions de planifier; un
appui ponctuel laisse des vides que d'autres doivent combler à la dernière minute.

## Ce que vous pouvez faire

Signez la lettre ci-dessous. Votre signature est transmise au premier ministre avec votre
nom et votre code postal, afin que le gouvernement entende des gens de chaque
circonscription.
""",
    "letter_en": """\
Dear Prime Minister,

UN peace operations save lives, and they depend on countries that keep their word.

I ask that Canada deliver the peacekeeping contributions it has pledged: deploy the
specialized units and trained personnel it has offered, increase the number of Canadian
women in peace operations, and support the training that makes missions effective.

Steady and dependable support shows that Canada's commitment to peacekeeping is long-term,
not episodic.

Respectfully,""",
    "letter_fr": """\
Monsieur le Premier Ministre,

Les opérations de paix de l'ONU sauvent des vies, et elles dépendent de pays qui tiennent
parole.

Je demande que le Canada concrétise les contributions au maintien de la paix qu'il a
promises : déployer les unités spécialisées et le personnel formé qu'il a offerts, augmenter
le nombre de Canadiennes dans les opérations de paix et appuyer la formation qui rend les
missions efficaces.

Un appui constant et fiable montre que l'engagement du Canada envers le maintien de la paix
est durable et non ponctuel.

Veuillez agréer, Monsieur le Premier Ministre, l'expression de ma haute considération.""",
    "recipient_name_en": "The Prime Minister of Canada (demo address)",
    "recipient_name_fr": "Le premier ministre du Canada (adresse de démonstration)",
    "recipient_email": "prime-minister@example.org",
    "recipient_address": "Office of the Prime Minister\n80 Wellington Street\nOttawa ON  K1A 0A2",
    "goal": 1000,
    "delivery": DeliveryMethod.email,
    "letters_per_hour": 30,
}

ROADMAP = {
    "slug": "france-canada-peacekeeping-roadmap",
    "title_en": "France-Canada Peacekeeping Roadmap",
    "title_fr": "Feuille de route franco-canadienne sur le maintien de la paix",
    "body_en": """\
The United Nations is rethinking how peacekeeping is organized and understood, so that
missions respond better to the complex settings where peacekeepers now serve.

France and Canada, founding members of the UN deeply committed to its Charter and to
international law, are renewing and strengthening their political partnership. As part of
it, they mean to work more closely on peacekeeping and peacebuilding, and together to give
the UN the political and practical support that the women and men working for international
peace and security need to carry out their mission.

France welcomed Canada's wish to take part in peacekeeping again, with up to 600 Canadian
soldiers offered to UN forces.

## Shared priorities

In multilateral organizations and in peace operations alike, the two countries will work on:

- preventive diplomacy and the peaceful settlement of disputes;
- the military, police and legal sides of peace operations;
- development cooperation with countries in crisis, for stability and resilience;
- the protection of civilians, and the rights and role of women in preventing and resolving
  conflicts;
- stronger military performance in peace operations.

## Next steps

France and Canada will press together for an effective and innovative reform of peace
operations. In that spirit, France proposed that Canada co-chair the ministerial conference
on peacekeeping in French-speaking settings that it hosted in Paris on October 26 and 27, 2016.

To keep the momentum of this roadmap, the two countries will encourage exchanges of
diplomats and of civilian and military experts, so that each knows the other better and
they share their analyses of the situations they face. They will also consult each other
regularly on these questions.
""",
    "body_fr": """\
Les Nations Unies repensent l'organisation et la conception du maintien de la paix, afin que
les missions répondent mieux aux contextes complexes où les Casques bleus sont aujourd'hui
déployés.

La France et le Canada, membres fondateurs de l'ONU profondément attachés à sa Charte et au
droit international, renouvellent et renforcent leur partenariat politique. Dans ce cadre,
ils entendent approfondir leur coopération en matière de maintien et de consolidation de la
paix, et apporter ensemble à l'ONU l'appui politique et opérationnel dont les femmes et les
hommes qui œuvrent pour la paix et la sécurité internationales ont besoin pour accomplir
leur mission.

La France a salué la volonté du Canada de se réengager dans le maintien de la paix, avec
jusqu'à 600 militaires canadiens offerts aux forces de l'ONU.

## Des priorités communes

Dans les organisations multilatérales comme dans les opérations de paix, les deux pays
travailleront sur :

- la diplomatie préventive et le règlement pacifique des différends;
- les dimensions militaire, policière et juridique des opérations de paix;
- la coopération au développement avec les pays en crise, pour la stabilité et la
  résilience;
- la protection des civils, ainsi que les droits et le rôle des femmes dans la prévention et
  le règlement des conflits;
- le renforcement de la performance militaire des opérations de paix.

## Prochaines étapes

La France et le Canada plaideront ensemble pour une réforme efficace et novatrice des
opérations de paix. Dans cet esprit, la France a proposé au Canada de coprésider la
conférence ministérielle sur le maintien de la paix en environnement francophone qu'elle a
accueillie à Paris les 26 et 27 octobre 2016.

Pour entretenir l'élan de cette feuille de route, les deux pays encourageront les échanges
de diplomates et d'experts civils et militaires, afin de mieux se connaître et de partager
leurs analyses des situations qu'ils rencontrent. Ils se consulteront aussi régulièrement
sur ces questions.
""",
}

ROADMAP_LINKS = [
    (
        "Take Action: letters to the Prime Minister",
        "Passez à l'action : lettres au premier ministre",
        "/take-action",
    ),
    ("Get Involved", "Participez", "/get-involved"),
    (
        "United Nations Peacekeeping",
        "Maintien de la paix des Nations Unies",
        "https://peacekeeping.un.org/",
    ),
]


def _unwrap(text):
    """Paragraphs written wrapped in this file, as one line each (blank lines kept)."""
    return "\n\n".join(" ".join(p.split("\n")) for p in text.strip().split("\n\n"))


def _french(values):
    """French typography for the French texts: the curly apostrophe."""
    return {
        k: v.replace("'", "\u2019") if k.endswith("_fr") and isinstance(v, str) else v
        for k, v in values.items()
    }


def _prepared(values):
    values = _french(values)
    for key in ("letter_en", "letter_fr"):
        if key in values:
            values[key] = _unwrap(values[key])
    return values


def _missing(model, slug):
    return db.session.scalar(sa.select(model.id).where(model.slug == slug)) is None


def seed_content():
    """The Mali campaign of April 2020 and the Roadmap page, where they are missing."""
    if _missing(Campaign, MALI["slug"]):
        db.session.add(Campaign(published=True, **_prepared(MALI)))
    if _missing(ContentPage, ROADMAP["slug"]):
        page = ContentPage(published=True, **_prepared(ROADMAP))
        page.links = [
            PageLink(position=i, label_en=en, label_fr=fr.replace("'", "\u2019"), href=url)
            for i, (en, fr, url) in enumerate(ROADMAP_LINKS)
        ]
        db.session.add(page)
    db.session.flush()


def seed_demo(today=None):
    """What :func:`seed_content` adds, and an open campaign that people can sign."""
    from core import clock

    seed_content()
    today = today or clock.today()
    if _missing(Campaign, DEMO_CAMPAIGN["slug"]):
        db.session.add(
            Campaign(
                published=True,
                starts_on=today - timedelta(days=7),
                ends_on=today + timedelta(days=90),
                **_prepared(DEMO_CAMPAIGN),
            )
        )
    db.session.flush()
