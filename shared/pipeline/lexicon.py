"""Inline stopword, sentiment and negation lists for en, de, fr, es, and the shared tokenizer."""

import re
from collections.abc import Mapping

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: Mapping[str, frozenset[str]] = {
    "en": _words(
        """a about above after again against all also am an and any are as at be because been
        before being between both but by can could did do does doing down during each few for
        from further had has have having he her here hers him his how i if in into is it its
        itself just me more most my no nor not now of off on once only or other our ours out over
        own same she should so some such than that the their theirs them then there these they
        this those through to too under until up very was we were what when where which while who
        whom why will with would you your yours"""
    ),
    "de": _words(
        """aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei
        bin bis bist da damit dann das dass dein deine dem den der des dich die dies diese diesem
        diesen dieser dir doch dort du durch ein eine einem einen einer eines er es etwas euch
        euer für gegen hat hatte hier hin hinter ich ihm ihn ihnen ihr ihre im in ist ja jede
        jedem jeden jeder kann kein keine man mein meine mich mir mit muss nach nicht nichts noch
        nun nur ob oder ohne sehr sein seine sich sie sind so sondern über um und uns unser unter
        vom von vor war waren warum was weil wenn wer werden wie wieder will wir wird wo zu zum
        zur zwar zwischen"""
    ),
    "fr": _words(
        """à afin ai au aucun aussi autre aux avec avoir avons ce ceci cela celle ces cet cette
        chaque ci comme comment dans de des donc dont du elle elles en encore est et été être eu
        il ils je jusque la le les leur leurs lui ma mais me même mes moi mon ne ni nos notre nous
        on ont ou où par pas peu plus pour pourquoi qu quand que quel quelle qui sa sans se ses
        si son sont sous sur ta te tes toi ton tous tout toute très tu un une vos votre vous y"""
    ),
    "es": _words(
        """a al algo algunos ante antes como con contra cual cuando de del desde donde durante e
        el él ella ellas ellos en entre era es esa ese eso esta está están este esto estos fue
        ha han hasta hay la las le les lo los más me mi mis mucho muy ni no nos nosotros o otra
        otro para pero poco por porque que quien se sea ser si sí sido sin sobre son su sus
        también tan te tiene todo todos tu tus un una uno unos y ya yo"""
    ),
}

# Sentiment words per language. Each language covers the same concepts (those of the English
# list: victory, recovery, praise, quality words; defeat, death, injury, outage, layoffs,
# shortage, failure, anger, scandal, ...) in its own words, written from the language, not from
# any labelled text. An entry of five letters or more is a stem: sentiment._matches accepts up
# to three more letters ("enttäusch" → "enttäuscht", "enttäuschend"); shorter entries and
# irregular forms are listed as they are written.
POSITIVE: Mapping[str, frozenset[str]] = {
    "en": _words(
        """victory celebrat recovery thrilled cheer welcom boost progress breakthrough relief
        good great excellent amazing wonderful fantastic positive success successful happy
        love loved best better improv benefit beneficial strong gain gains growth win wins won
        winner effective efficient impressive brilliant delighted pleased outstanding reliable
        enjoy perfect superb praise recommend helpful"""
    ),
    "de": _words(
        """sieg siege siegt siegte sieger siegen gewinn gewann gewonnen feier jubel erholung
        willkommen begrüß lob lobt lobte loben gelobt fortschritt durchbruch erleichter stolz
        überzeug gut gute guter gutes gutem besser beste bester bestes hervorragend
        ausgezeichnet toll super wunderbar großartig fantastisch erstaunlich positiv erfolg
        erfolgreich glücklich freude freuen freut freute liebe lieben liebt geliebt wachstum
        stark stärker effizient wirksam zuverlässig begeistert erfreut zufrieden perfekt
        beeindruckend brillant herausragend genieß empfehl empfiehlt empfohlen hilfreich
        verbesser vorteil profitier schön"""
    ),
    "fr": _words(
        """victoire gagne gagné gagnée gagnent gagner gagnant rempor fête fêté fêter célèbre
        célébr célébration salue saluent salué saluée saluer progrès percée redressement
        soulagement soulagé bienvenue fier fière magnifique superbe bon bonne bons bonnes bien
        meilleur meilleure excellent formidable merveilleux merveilleuse génial géniale
        fantastique incroyable positif positive succès réussi heureux heureuse aimer aime aimé
        adore adoré amour croissance gain gains fort forte efficace fiable impressionnant
        brillant parfait parfaite satisfait ravi ravie ravis enchanté exceptionnel apprécié
        recommand utile amélior agréable avantage bénéfique éloge éloges"""
    ),
    "es": _words(
        """victoria triunfo gana ganó ganar ganan ganado ganador celebr celebraron celebración
        remontada elogi avance logro logra logró lograr alivio orgullo orgulloso orgullosa
        magnífico espectacular bueno buena buenos buenas bien mejor mejores excelente
        maravilloso maravillosa fantástico fantástica increíble genial brillante positivo
        positiva éxito exitoso exitosa feliz alegría amor encanta encantado encantada gusta
        crecimiento ganancia ganancias fuerte eficaz eficiente fiable impresionante perfecto
        perfecta satisfecho satisfecha contento contenta excepcional disfrut recomiendo
        recomienda recomend recomendable útil mejora mejorar mejoró mejorado agradable
        recuperación bienvenida progreso beneficioso"""
    ),
}

NEGATIVE: Mapping[str, frozenset[str]] = {
    "en": _words(
        """defeat killed dead death injur strike outage breach fire flood closure layoff shortage
        warning victim bad worse worst terrible awful horrible poor negative fail failed failure
        sad hate hated dislike loss losses lose lost weak decline problem problems risk crisis
        broken disappoint angry dangerous useless wrong damage harm slow expensive scandal fraud
        attack collapse"""
    ),
    "de": _words(
        """niederlage verloren verlier tot tote tod todes getötet verletz streik ausfall
        störung datenleck brand feuer flut hochwasser überschwemmung schließung geschlossen
        entlass entlassungen stellenabbau mangel engpass engpässe warnung warnen warnt warnte
        opfer insolven schlecht schlechte schlechter schlechtes schlimm schrecklich furchtbar
        mies dürftig negativ fehler versagen scheiter gescheitert traurig hass hassen verlust
        verluste schwach rückgang sinken sinkt gesunken problem probleme risiko krise kaputt
        enttäusch wütend verärgert ärger gefährlich nutzlos falsch schaden beschädigt langsam
        teuer skandal betrug angriff zusammenbruch katastrophe mangelhaft"""
    ),
    "fr": _words(
        """défaite perdu perdue perdre perd perdent mort morts décès tué tués tuée blessé
        blessure grève panne incendie incendies inondation fermeture licenci licenciement
        licenciements pénurie alerte victime dévast mauvais mauvaise pire terrible horrible
        affreux médiocre négatif négative échec échoué échouer raté triste haine déteste
        détester perte pertes faible baisse déclin problème problèmes risque crise cassé
        décevant déçu déçue déçus colère furieux furieuse dangereux dangereuse inutile faux
        dommage endommag lent lente coûteux coûteuse scandale fraude attaque attaqué
        effondr effondrement catastrophe"""
    ),
    "es": _words(
        """derrota perdió perder pierde pierden perdido muerto muertos muerte murió mató herido
        heridos herida heridas lesión lesiones lesionado huelga apagón incendio inundación
        inundaciones cierre despido despidos escasez alerta víctimas filtración malo mala
        malos malas peor pésimo terrible horrible deficiente negativo negativa fracaso fracasó
        fracasar triste odio odiar pérdida pérdidas débil caída declive problema problemas
        riesgo crisis roto decepcion decepcionante decepción enfadado enfadada enojado
        furioso peligroso peligrosa inútil falso daño daños dañado lento lenta caro escándalo
        fraude estafa ataque colapso derrumbe catástrofe"""
    ),
}

NEGATIONS: frozenset[str] = _words(
    """not no never nothing without nicht kein keine keinen keiner nie niemals ohne pas jamais
    aucun aucune sans nunca jamás sin tampoco"""
)

ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())

_CONTRACTED_NOT = re.compile(r"n['’]t\b", re.IGNORECASE)
_ENGLISH_S = re.compile(r"(?<=[a-z])['’]s\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens for counting and matching.

    English "n't" becomes "not" so negation is seen as a word, and "'s" is dropped so
    "library's" counts as "library"; French elisions ("l'année") still split.
    """
    text = _ENGLISH_S.sub("", _CONTRACTED_NOT.sub(" not", text))
    return _WORD.findall(text.lower())


def stopwords_for(language: str | None) -> frozenset[str]:
    """Stopwords of a supported language, or of all of them when the language is unknown."""
    if language is not None and language in STOPWORDS:
        return STOPWORDS[language]
    return ALL_STOPWORDS
