"""The recogniser on the real catalogue, and its measured quality on the evaluation set."""

from __future__ import annotations

import time

import pytest

from bot.classify import evaluate
from bot.content import Content, build_recogniser
from bot.core.recognise import (
    NEIGHBOURS_SHARE,
    NEWS,
    QUESTION,
    UNKNOWN,
    Recogniser,
    features,
    words_of,
)
from bot.settings import ROOT

EVAL = ROOT / "tests" / "data" / "errors_eval.jsonl"


@pytest.fixture(scope="module")
def model(content: Content) -> Recogniser:
    return build_recogniser(content.problems, content.reports, content.catalogs,
                            content.lexicon)


@pytest.mark.parametrize(("text", "error"), [
    ("API expired", "api_expired_not_renewed"),
    ("mot de passe oublie un message a ete envoye a l'adresse electronique correspondant a "
     "l'identifiant saisi", "login_loop"),
    ("سلام، ده آنف ای پیام میایه: Mot de passe oublié. Un message a été envoyé à l'adresse "
     "électronique correspondant à l'identifiant saisi", "login_loop"),
    ("il n'existe plus de plage horaire libre pour votre demande de rendez-vous",
     "appointment_unavailable"),
    ("un gars sur tiktok veut 200 euros pour un rdv en prefecture", "scam_payment_request"),
])
def test_typical_reports(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize("text", ["hello", "bonjour, ça va ?", "سلام علیکم", "مرحبا",
                                  "I want to learn French", "je cherche un logement",
                                  "thank you very much", ""])
def test_unrelated_messages_are_unknown(model: Recogniser, text: str) -> None:
    assert model.recognise(text).error == UNKNOWN


def test_candidates_are_ranked_and_bounded(model: Recogniser) -> None:
    found = model.recognise("mon API est expirée et pas de nouvelle, on me refuse au travail")
    assert 1 <= len(found.candidates) <= 3
    scores = [c.score for c in found.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert found.as_json()["error"] == found.error


def test_typos_and_keyboard_variants_share_features() -> None:
    assert set(features("prefecture")) & set(features("préféctur"))
    assert features("كيف") == features("کیف")


def test_quality_on_the_held_out_half_meets_the_targets(model: Recogniser,
                                                        content: Content) -> None:
    # The concept weights and thresholds were tuned on the even lines only (the dev half):
    # the odd lines measure the recogniser on reports it was never tuned on.
    result = evaluate(model, EVAL, "test", content.commands).report()
    languages = result["languages"]
    # (Raised from 90% and 85% when the other offices and the concepts of issue 15 took the
    # odd lines from 92.3% to 94.3%, the lowest language from 89.5% to 92.1%.)
    assert languages["all"]["top1"] >= 0.92, languages
    assert all(row["top1"] >= 0.90 for row in languages.values()), languages
    assert result["false_alarm_rate"] <= 0.05, result["false_alarm_rate"]


def test_the_evaluation_set_is_as_specified() -> None:
    import json

    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 250
    for lang in ("fr", "fa_AF", "ps", "ar", "en"):
        assert sum(r["lang"] == lang for r in rows) >= 40, lang
    assert sum(r["expect"] == UNKNOWN for r in rows) >= 40


def test_classifying_is_fast_enough_for_a_webhook(model: Recogniser) -> None:
    # Not the benchmark (benchmarks/classify_speed.py prints the figures): a guard that a
    # change did not make one report take far longer than the 2 ms target median.
    # Processor time, not the clock's: in a parallel run this worker may wait for the
    # processor meanwhile (the two-instance crash test runs at a higher priority).
    reports = [line for line in EVAL.read_text(encoding="utf-8").splitlines()][:100]
    started = time.process_time()
    for line in reports:
        model.recognise(line)
    assert (time.process_time() - started) / len(reports) < 0.05


@pytest.mark.parametrize(("report", "error"), [
    # "My API has not been renewed": the renewal that did not come.
    ("زما API نوی شوی نه دی", "api_expired_not_renewed"),
    ("mot de passe oublié, ça revient toujours, je ne peux pas entrer", "login_loop"),
    ("I cannot log in, it always sends me back to forgot password", "login_loop"),
])
@pytest.mark.parametrize("greeting", ["", "سلام، ", "Bonjour Relais, ", "hello please ",
                                      "مرحبا، ", "سلام علیکم، لطفا ", "ستړي مه شې، "])
def test_a_greeting_does_not_hide_the_report(model: Recogniser, greeting: str, report: str,
                                             error: str) -> None:
    assert model.recognise(greeting + report).error == error
    assert model.recognise(report + " مننه، thanks").error == error


FIRST_CONTACT = ROOT / "tests" / "data" / "first_contact_eval.jsonl"


#: The third first-contact set: held out until session 6 tuned on its even lines, whole since
#: session 7 (the fourth set is held out in its place).
THIRD_SET = ROOT / "tests" / "data" / "first_contact_eval_3.jsonl"
#: Written for tuning in session 7 by a writer who saw neither the recogniser nor its examples.
SECOND_DEV = ROOT / "tests" / "data" / "recognise_dev_2.jsonl"
#: The same, heavier on unrelated questions in the procedure's words (session 7).
THIRD_DEV = ROOT / "tests" / "data" / "recognise_dev_3.jsonl"


@pytest.mark.parametrize(("path", "half", "floor", "each", "alarms"), [
    (FIRST_CONTACT, "dev", 0.95, 0.93, 0.03),
    (EVAL, "dev", 0.96, 0.92, 0.03),
    (THIRD_SET, None, 0.96, 0.95, 0.02),
    (SECOND_DEV, None, 0.95, 0.92, 0.02),
    (THIRD_DEV, None, 0.92, 0.89, 0.05),
])
def test_quality_on_the_tuning_half_does_not_regress(model: Recogniser, content: Content,
                                                     path: object, half: str | None,
                                                     floor: float, each: float,
                                                     alarms: float) -> None:
    # The examples, concepts and thresholds were tuned on these lines (the dev halves, the
    # whole third set): a floor just under what they reach, so that a change that loses
    # recognition fails. (First messages as people write them: greetings, typos, romanised
    # Dari, Pashto and Arabic, pasted French; the honest figures are the held-out sets',
    # printed by `python -m bot classify --eval FILE [--half test]`.)
    from pathlib import Path

    assert isinstance(path, Path)
    result = evaluate(model, path, half, content.commands).report()
    languages = result["languages"]
    assert languages["all"]["top1"] >= floor, languages
    assert all(row["top1"] >= each for row in languages.values()), languages
    assert result["false_alarm_rate"] <= alarms, result["false_alarm_rate"]


def test_a_problem_near_several_examples_beats_one_near_a_single_one() -> None:
    # A problem scores as its nearest example and, for NEIGHBOURS_SHARE (40%), its next
    # three: one example matching by chance weighs less than a problem whose examples agree.
    model = Recogniser({
        "agreeing": ["carte bloquee prefecture"] * 4,
        "single": ["carte bloquee prefecture", "rien", "autre chose", "encore autre"],
        UNKNOWN: ["carte bloquee prefecture", "bonjour"],
    })
    scores = model.scores("carte bloquee prefecture")
    assert scores["agreeing"] == pytest.approx(1.0)
    assert scores["single"] == pytest.approx(1 - NEIGHBOURS_SHARE, abs=0.01)
    assert scores["single"] < 0.65
    # Unrelated chat is no one topic: near one of its examples is near enough.
    assert scores[UNKNOWN] == pytest.approx(1.0)


@pytest.mark.parametrize(("report", "error"), [
    # Romanised Dari, Pashto and Arabic (Finglish, Arabizi), written for this test.
    ("salam API man tarikhesh gozasht, jadid hich nadadan", "api_expired_not_renewed"),
    ("salam ma na sham nanawatay, password ghalat wai", "login_loop"),
    ("salam khoya fin nchri timbre fiscal dyal la carte", "fee_payment_question"),
    # Dialect spellings and the words around the timbre fiscal and the phone.
    ("بدي غير رقم الهاتف تبعي بحساب الانيف", "contact_details_change"),
    ("ملفي انلغى بالانيف وما قالوا ليش", "application_closed"),
    ("د تمدید لپاره تمبر څو یورو دی؟", "fee_payment_question"),
])
def test_romanised_and_dialect_reports(model: Recogniser, report: str, error: str) -> None:
    assert model.recognise(report).error == error


@pytest.mark.parametrize("text", [
    # A problem solved, a question about a card's length, a third party's everyday business:
    # words of the procedure, but nothing to repair.
    "merci, c'est réglé, la nouvelle attestation est bien arrivée",
    "how many years does a resident card last?",
    "کاف ای ماه پول ره دیر داد",
    "سبا په France Travail کې نوبت لرم",
])
def test_chat_about_the_procedure_is_not_a_report(model: Recogniser, text: str) -> None:
    assert model.recognise(text).error == UNKNOWN


@pytest.mark.parametrize("text", [
    # The CAF's housing benefit, the "APL", is spelled like the API in every script.
    "la CAF a pas encore payé mon APL",
    "APL went down again this month",
    "ای پی ال مه کم شده",
    "اې پي ال مې نه ده راغلې",
    "الـ APL تاخرت هالشهر",
    "salam APL dyali ma nzlatch",
    # Other offices and everyday life, in the words of a report: blocked, refused, an account.
    "mon dossier à la CAF est bloqué depuis deux mois",
    "the CNDA refused my appeal, what now",
    "je voudrais ouvrir un compte en banque, quels documents ?",
    "د ډاکټر سره نوبت نشته",
    "مدرسة ابني ما قبلت تسجيله",
])
def test_other_offices_are_not_an_anef_problem(model: Recogniser, text: str) -> None:
    found = model.recognise(text)
    assert found.error == UNKNOWN, found
    # Not "one of these?" either: the closest ANEF problems are not offered for it.
    assert found.unrelated >= (found.candidates[0].score if found.candidates else 0.0)


@pytest.mark.parametrize(("text", "error"), [
    # The same offices refusing the API, or their papers uploaded to ANEF: still reports.
    ("la CAF a coupé mes APL parce qu'elle refuse mon API", "api_refused_by_third_party"),
    ("France Travail veut la vraie carte, pas ce papier", "api_refused_by_third_party"),
    ("کاف میگه ای پی آی قبول نیس، کارت اقامت بیار", "api_refused_by_third_party"),
    ("the scan of my OFPRA certificate is refused, file too big", "upload_rejected"),
    ("API مه ختم شد و جدید نیامده", "api_expired_not_renewed"),
])
def test_other_offices_with_the_api_are_still_reports(model: Recogniser, text: str,
                                                      error: str) -> None:
    assert model.recognise(text).error == error


def test_naming_another_office_without_anef_takes_no_report() -> None:
    from bot.core.recognise import Lexicon

    lexicon = Lexicon.from_mapping({"elsewhere": ["caf"], "api": ["api"],
                                    "refuse": ["refuse"]})
    model = Recogniser({"refused": ["api refuse", "caf refuse api"],
                        UNKNOWN: ["bonjour"]}, lexicon=lexicon)
    assert model.recognise("caf refuse").error == UNKNOWN
    assert model.recognise("caf refuse api").error == "refused"
    assert model.recognise("refuse").error == "refused"  # no other office: the usual rule


RECOGNISE_DEV = ROOT / "tests" / "data" / "recognise_dev.jsonl"


def test_quality_on_the_recognisers_own_dev_set(model: Recogniser, content: Content) -> None:
    # Written before the elsewhere rule and the concepts of other offices were tuned on it
    # (reports and unrelated chat about the CAF, its APL, France Travail, OFII, a bank...):
    # a floor just under what they reach, so that a change that loses ground fails.
    result = evaluate(model, RECOGNISE_DEV, None, content.commands).report()
    languages = result["languages"]
    assert languages["all"]["top1"] >= 0.96, languages
    assert all(row["top1"] >= 0.94 for row in languages.values()), languages
    assert result["false_alarm_rate"] <= 0.03, result["false_alarm_rate"]
    assert result["unrelated"] >= 100
    assert languages["all"]["n"] >= 240


@pytest.mark.parametrize("text", [
    # The site's name alone, and questions for information (what a word means, how long a
    # card lasts, when an office opens): words of the procedure, but no problem to repair.
    "anef ???",
    "c'est quoi exactement l'attestation de prolongation ?",
    "ای پی آی یعنی چی؟ برای چی اس؟",
    "شو يعني الوصل؟",
    "combien d'années dure la carte pluriannuelle ?",
    "کارت اقامت ده ساله چند سال اعتبار داره؟",
    "à quelle heure ouvre la préfecture de Créteil ?",
    "البريفكتور الساعة كم بيفتح؟",
])
def test_questions_for_information_are_not_reports(model: Recogniser, text: str) -> None:
    assert model.recognise(text).error == UNKNOWN


@pytest.mark.parametrize(("report", "error"), [
    # Only the receipt of the application: the API never came (not one that expired).
    ("j'ai que l'attestation de dépôt, pas d'API", "api_not_generated"),
    ("only deposit receipt after 3 weeks, no API", "api_not_generated"),
    # The *new* one that did not come: the renewal.
    ("الـ API الجديدة ما اجت والقديمة خلصت", "api_expired_not_renewed"),
    ("ای پی آی جدیدم نیامد، قبلی ختم شد", "api_expired_not_renewed"),
    # Arabic with the article and prepositions written on ("بالبريفكتور", "بالانيف").
    ("ما في رونديفو بالبريفكتور", "appointment_unavailable"),
    ("سكروا الملف تبعي بالانيف", "application_closed"),
    ("nsit mot de passe dyal anef w ma wslni email", "login_loop"),
    # Romanised "I forgot my password" (faramosh, nsit, hir) is the login problem.
    ("ramzam ra faramosh kardom, email nemeya", "login_loop"),
    ("فایل سندم ره قبول نمیکنه میگه کلان اس", "upload_rejected"),
])
def test_reports_told_by_their_telling_words(model: Recogniser, report: str,
                                             error: str) -> None:
    assert model.recognise(report).error == error


def test_the_arabic_article_and_a_persian_suffix_do_not_hide_a_concept() -> None:
    from bot.core.recognise import Lexicon

    lexicon = Lexicon.from_mapping({"prefecture": ["البريفكتور"],
                                    "residence_card": ["کارت اقامت"]})
    assert lexicon.concepts(words_of("مافي موعد بالبريفكتور")) == {"prefecture"}
    assert lexicon.concepts(words_of("کارت اقامتم ختم شد")) == {"residence_card"}
    assert "w:حساب" in features("ما بيفتح بالحساب")


@pytest.mark.parametrize("text", [
    # Asylum comes before ANEF: its interview, decision and appeal are not ANEF problems.
    "l'OFPRA a rejeté ma demande d'asile, je fais quoi ?",
    "when will OFPRA give me the decision? it's been 5 months",
    "اوفپرا درخواست پناهندگی مه رد کد",
    "الاوفبرا رفضت طلب اللجوء تبعي",
    "مصاحبه اوفپرا ام کی اس؟ هنوز نامه نیامده",
    # Making an account with the CAF or France Travail is theirs, not ANEF's.
    "je veux créer un compte sur le site de la CAF",
    "میخواهم در سایت کاف حساب بسازم",
    # An entry with an apostrophe matches as written ("prime d'activité" is the CAF's).
    "j'ai pas reçu la prime d'activité ce mois",
])
def test_asylum_and_other_accounts_are_not_anef_problems(model: Recogniser, text: str) -> None:
    assert model.recognise(text).error == UNKNOWN


@pytest.mark.parametrize(("report", "error"), [
    # A document of OFPRA uploaded to ANEF, an account made after OFPRA's decision: ANEF.
    ("certificat de l'OFPRA refusé, le site dit format pas bon", "upload_rejected"),
    ("سند OFPRA ره بار کدم، قبول نکد", "upload_rejected"),
    ("l'OFPRA m'a donné le statut, mais je n'arrive pas à créer mon compte sur le site",
     "account_creation_blocked"),
])
def test_asylum_papers_on_anef_are_still_reports(model: Recogniser, report: str,
                                                 error: str) -> None:
    assert model.recognise(report).error == error


@pytest.mark.parametrize(("text", "error"), [
    # A long story: the six months of the last API are context, not a shorter API.
    ("سلام ورور، د اقامې کارت مې ختم شو او د تمدید غوښتنه مې انلاین وکړه. یو API یې راکړ چې "
     "شپږ میاشتې اعتبار یې درلود، اوس هغه هم ختم شو او په سایټ کې هیڅ نوی شی نشته",
     "api_expired_not_renewed"),
    # "Does not accept" as Dari says it (قبول نداره).
    ("سلام، مه در یک رستورانت کار پیدا کدم، ولی مدیر رستورانت میگه که API ره قبول نداره و "
     "کارت اقامت میخایه", "api_refused_by_third_party"),
    # A pharmacy, a night: health, not an API nowhere to be found.
    ("داروخانه کجاست که شب باز باشه؟", UNKNOWN),
    ("درملتون چیرته دی چې د شپې خلاص وي؟", UNKNOWN),
    # Solved, romanised: thanks, not a report.
    ("salam, moshkel hal shod, API jadidam amad, tashakor ziad", UNKNOWN),
])
def test_stories_and_everyday_words(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("report", "error"), [
    # Iranian Persian, Iraqi, Egyptian and Levantine forms of the same reports.
    ("نه ماهه منتظرم هیچ جوابی نیومده", "application_stuck"),
    ("ما اگدر اخش عالحساب، يكول الباسورد غلط", "login_loop"),
    ("صار لي سنة انتظر والطلب نفس الشي", "application_stuck"),
    ("مش عارف ادخل على الاكونت بتاعي في الانيف، بيقول الباسورد غلط", "login_loop"),
    ("الوصل بتاعي خلص من أسبوع ومفيش جديد", "api_expired_not_renewed"),
])
def test_dialect_forms_of_reports(model: Recogniser, report: str, error: str) -> None:
    assert model.recognise(report).error == error


@pytest.mark.parametrize("text", [
    # A passport of the country of origin, a translation, a feast: not ANEF.
    "mon passeport afghan a expiré, je fais comment ?",
    "پاسپورت افغانی مه تمام شده، چطور تمدید کنم؟",
    "جواز سفري السوري خلص، كيف جدده؟",
    "ای نامه ره برایم ترجمه کو",
    "رمضان کی شروع میشه؟",
])
def test_passports_translations_and_feasts_are_not_reports(model: Recogniser,
                                                           text: str) -> None:
    assert model.recognise(text).error == UNKNOWN


def test_another_offices_account_is_not_about_the_procedure(model: Recogniser) -> None:
    # Not a vague ANEF report to ask about: the assistant says what it helps with instead.
    assert not model.about_the_procedure("je n'arrive pas à me connecter au site de la CAF")
    assert not model.about_the_procedure("نسيت كلمة السر تبع حساب الكاف")
    assert model.about_the_procedure("j'ai un problème avec mon compte")
    assert model.about_the_procedure("la CAF refuse mon récépissé")


@pytest.mark.parametrize("news", [
    # Thanks or relief with a step done, in the five languages and romanised: the problem it
    # names is over (each scores nearer a problem than the thanks examples, so the rule decides).
    "thank you, the préfecture renewed my card last week",
    "bonne nouvelle, j'ai obtenu mon rendez-vous en préfecture pour lundi",
    "تشکر، API نو ره گرفتم، خدا خیرتان بدهد",
    "مننه، نوې API مې ترلاسه کړه",
    "شكرا، اخيرا استلمت الوصل الجديد",
    "tashakor, API jadid gereftam",
])
def test_good_news_is_not_a_report(model: Recogniser, news: str) -> None:
    assert model.recognise(news).error == UNKNOWN


@pytest.mark.parametrize(("report", "error"), [
    # The same good news with a "but" and a trouble: a report.
    ("merci, j'ai eu un rendez-vous en préfecture mais ils l'ont annulé",
     "appointment_unavailable"),
    ("thanks, my API was renewed but my date of birth is wrong on it", "api_wrong_mentions"),
    ("شكرا، استلمت الوصل الجديد لكنهم كتبوا اسمي غلط", "api_wrong_mentions"),
    ("تشکر، API نو گرفتم ولی تاریخ تولدم غلط است", "api_wrong_mentions"),
    ("مننه، نوې API راغله خو نوم مې غلط لیکلی", "api_wrong_mentions"),
])
def test_good_news_with_a_trouble_is_still_a_report(model: Recogniser, report: str,
                                                    error: str) -> None:
    assert model.recognise(report).error == error


@pytest.mark.parametrize(("text", "error"), [
    # A bank account to open is everyday life; a bank refusing the API is a report.
    ("I want to open a bank account, which papers do they ask?", UNKNOWN),
    ("la banque me demande quoi pour ouvrir un compte ?", UNKNOWN),
    ("البنك ما رضي يفتحلي حساب بالوصل", "api_refused_by_third_party"),
    ("the bank refuses my API to open an account", "api_refused_by_third_party"),
    ("بانک زما API نه مني", "api_refused_by_third_party"),
    # "What's new?" asks after the person; no news of the application is a report.
    ("سلام چه خبر", UNKNOWN),
    ("quoi de neuf ?", UNKNOWN),
    ("هیچ خبر از درخواستم نیست، هشت ماه شده", "application_stuck"),
])
def test_banks_and_news_of_the_person(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # The foreigner number typed to log in is a login, not an account being created.
    ("I enter my foreigner number and password and it brings me back to the first page",
     "login_loop"),
    ("je mets mon numéro étranger et mon mot de passe et je reviens à l'accueil", "login_loop"),
    # An office that charges for the application is a scam; the timbre's price is a question.
    ("a shop in my street asks 120 euros to fill in my ANEF application",
     "scam_payment_request"),
    ("how much is the timbre for the residence card?", "fee_payment_question"),
    # Arabic dialect forms: "ثلاث شهور" of a shorter API, three months of waiting; "نعمل حساب"
    # on ANEF, not at a bank; news told with "and" on its verb.
    ("الوصل الجديد غير ثلاث شهور، علاش؟", "api_short_validity"),
    ("مرت ثلاث شهور على طلبي في ANEF وما في أي جواب", "application_stuck"),
    ("ما قدرتش نعمل حساب على الموقع تاع ANEF", "account_creation_blocked"),
    ("بغيت نعمل حساب في البنك", UNKNOWN),
    ("شكرا بزاف، ووصلني الوصل الجديد اليوم", UNKNOWN),
    ("شكرا، ووصلني الوصل الجديد بس كاتبين اسمي غلط", "api_wrong_mentions"),
    ("جنسيتي مكتوبة غلط في الوصل", "api_wrong_mentions"),
])
def test_logins_offices_and_dialect_forms(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # An end months ahead is a question of when (a renewal is filed 4 to 2 months before).
    ("ma carte expire dans six mois, je peux déjà demander le renouvellement ?", UNKNOWN),
    ("بطاقتي تنتهي بعد سبعة شهور، واش نقدر نجدد دابا؟", UNKNOWN),
    ("کارت اقامتم ده ماه دیگه تمام میشه، از حالا درخواست بتم؟", UNKNOWN),
    # The same months in the past, or with a trouble, are reports.
    ("mon API a expiré il y a 6 mois", "api_expired_not_renewed"),
    ("کارت اقامتم ۸ ماه پیش ختم شد و API نو نیامده", "api_expired_not_renewed"),
    ("my card ends in 6 months but the bank already refuses my API",
     "api_refused_by_third_party"),
])
def test_an_end_months_ahead_is_no_problem_yet(model: Recogniser, text: str,
                                               error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # Romanised Dari: a company that did not accept the API; a company's job is not ANEF.
    ("sherkat API ma ra qabul nakard, karta mekhaya", "api_refused_by_third_party"),
    ("da sherkat kar mekhayom, che kar konom?", UNKNOWN),
])
def test_romanised_refusals(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # Where a number is written, what to bring, whether two things are the same, whether one
    # may work: questions in the procedure's words, with nothing wrong told.
    ("le numéro étranger, il est écrit où sur le récépissé ?", UNKNOWN),
    ("where is the foreigner number printed on the résident card?", UNKNOWN),
    ("د API شمېره په کوم ځای کې لیکل شوې ده؟", UNKNOWN),
    ("برای گرفتن کارت اقامت به préfecture چی چیزا ره با خود ببرم؟", UNKNOWN),
    ("رايح آخد الكرت من البريفكتور، شو لازم اجيب معي؟", UNKNOWN),
    ("est-ce que l'ANEF c'est la même chose que la préfecture ?", UNKNOWN),
    ("ANEF والبريفكتور، شو الفرق بينهم؟", UNKNOWN),
    ("can I work with the API while I wait for my card?", UNKNOWN),
    # The same words with a trouble, or with a price, are reports.
    ("le site dit que mon numéro étranger n'est pas reconnu, il est écrit où exactement ?",
     "account_creation_blocked"),
    ("la préfecture dit d'apporter un timbre fiscal, c'est combien ?", "fee_payment_question"),
    ("I have to bring my API to the new job but the boss refuses it",
     "api_refused_by_third_party"),
    ("الموقع ما بيفتح من امبارح", "technical_error"),
])
def test_questions_of_information_with_the_procedures_words(model: Recogniser, text: str,
                                                            error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # With the API in hand, what does not come is the card: the application is stuck.
    ("j'ai l'API depuis 9 mois mais toujours pas de carte", "application_stuck"),
    ("API لرم خو کارت مې لا نه دی راغلی، لس میاشتې کیږي", "application_stuck"),
    # A void API ("باطل"), a Darija refusal, the site sending one back to the first page.
    ("زما API باطل شو او نوی یې نه دی راکړی", "api_expired_not_renewed"),
    ("sharika rfdat l'API, bghaw titre de séjour", "api_refused_by_third_party"),
    ("lma bdkhol l compte kayrj3ni l page lowla", "login_loop"),
    ("الطلب ديالي تسد و ما عرفتش علاش", "application_closed"),
    # Sleeping outside, the 115, a scholarship: not ANEF (and not a stuck application).
    ("j'appelle le 115 tous les soirs, aucune place pour nous", UNKNOWN),
    ("زما زوی د پوهنتون لپاره بورس غواړي، چېرته ولاړ شي؟", UNKNOWN),
])
def test_the_card_after_the_api_and_other_telling_words(model: Recogniser, text: str,
                                                        error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "elsewhere"), [
    ("j'appelle le 115 depuis ce matin, on dort dehors avec mon fils", True),
    ("ابني بدو يسجل بالمدرسة وما لقيت مكان", True),
    ("مرحبا، أريد مساعدة", False),  # tells nothing yet: greeted, not turned away
    ("الكاف رفضت الـ API تبعي", False),  # another office, but about the API
])
def test_what_is_about_another_office_or_everyday_life(model: Recogniser, text: str,
                                                      elsewhere: bool) -> None:
    assert model.about_elsewhere(text) is elsewhere


@pytest.mark.parametrize(("text", "error"), [
    # Good news "without a problem" is still good news; a Dari "not" written onto the verb
    # is still a trouble ("فورم پیش نمیره").
    ("الحمدلله قدمت التجديد عالانيف بدون مشاكل، شكرا", UNKNOWN),
    ("ça s'est bien passé, j'ai eu mon API sans problème, merci", UNKNOWN),
    ("نمبر خارجی ره از کجا پیدا کنم؟ فورم بدون او پیش نمیره", "account_creation_blocked"),
    # A journey is everyday life; the travel document is asked on ANEF.
    ("je peux aller voir ma mère en Turquie avec mon statut de réfugié ?", UNKNOWN),
    ("بدي اطلب وثيقة سفر والموقع بيقلي عندك طلب قيد المعالجة", "request_blocked_existing"),
    # A salary not paid, a home address, a lost card, a stateless person's route: questions
    # for someone else, or for a person, not one of the known problems.
    ("mon patron ne m'a pas versé mon salaire ce mois-ci", UNKNOWN),
    ("I moved to Lyon, how do I give my new home address?", UNKNOWN),
    ("کارت اقامتم در بس گم شد، حالی چی کنم؟", UNKNOWN),
    ("زه بې تابعیته یم، لومړی کارت چېرته وغواړم؟", UNKNOWN),
    # The e-mail address is the account's: changing it is a known problem.
    ("je veux changer l'adresse mail de mon compte ANEF, je n'ai plus accès à l'ancienne",
     "contact_details_change"),
])
def test_news_journeys_and_lifes_questions(model: Recogniser, text: str, error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # A question that names nothing gone wrong is no report, whatever ANEF words it uses.
    ("i have API now, can i register at France Travail with it?", UNKNOWN),
    ("what does \"attestation de dépôt\" mean?", UNKNOWN),
    ("با API میتانم به آلمان برم خانه خواهرم؟", UNKNOWN),
    ("نن مې API واخیسته، کارت به کله راشي؟", UNKNOWN),
    ("الانيف ده موقع الحكومة الرسمي ولا موقع خاص؟", UNKNOWN),
    # A question with an end, a wait, a detail to change, a full calendar or a fault named
    # is still a report.
    ("mon API a expiré hier, je fais quoi ?", "api_expired_not_renewed"),
    ("comment changer mon numéro de téléphone sur mon compte ANEF ?", "contact_details_change"),
    ("how to get rendez-vous? prefecture calendar always full", "appointment_unavailable"),
    ("anef is down?", "technical_error"),
    ("انف وايي مالیاتي ټکټ واخله، دا عادي ده؟", "fee_payment_question"),
    ("صارلي ٨ شهور ناطر الكرت، لإيمتى لازم استنى؟", "application_stuck"),
    # A French screen wording pasted with a question mark is still that screen's problem.
    ("il me met « Nous ne sommes pas en mesure de traiter votre demande » ?",
     "appointment_unavailable"),
    ("Mot de passe oublié. Un message a été envoyé à l'adresse électronique correspondant à "
     "l'identifiant saisi, je fais quoi ?", "login_loop"),
])
def test_questions_name_a_problem_only_with_a_sign_of_one(model: Recogniser, text: str,
                                                          error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "error"), [
    # An agency asking money to fill in or speed up the file is the scam safety.yaml names.
    ("une agence me demande 300€ pour remplir mon dossier anef et l'accélérer, je dois payer ?",
     "scam_payment_request"),
    # The old card handed back, which the site still counts as held: the renewal is blocked.
    ("کارت کهنه خود را به پریفکتور تسلیم کدم ولی سایت میگه هنوز پیش تو است و نمیمانه تمدید کنم",
     "request_blocked_existing"),
    # "I got the API" is news, not the API in hand while the card does not come.
    ("API دارم ولی کارت نمیایه، یک سال شد انتظار میکشم", "application_stuck"),
])
def test_agencies_cards_handed_back_and_the_api_in_hand(model: Recogniser, text: str,
                                                        error: str) -> None:
    assert model.recognise(text).error == error


@pytest.mark.parametrize(("text", "why"), [
    ("merci, la préfecture m'a donné ma carte aujourd'hui", NEWS),
    ("i have API now, can i register at France Travail with it?", QUESTION),
    ("le numéro étranger, il est écrit où sur le récépissé ?", QUESTION),
    ("c'est quoi la météo demain", ""),  # unrelated: neither news nor a question of ANEF
    ("mon API a expiré et je n'ai rien reçu", ""),  # a report
])
def test_why_a_message_is_no_report(model: Recogniser, text: str, why: str) -> None:
    # The conversation answers news with gladness and a question with a person (/human).
    assert model.recognise(text).why == why
