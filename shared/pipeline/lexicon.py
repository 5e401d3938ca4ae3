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

POSITIVE: Mapping[str, frozenset[str]] = {
    "en": _words(
        """victory celebrate celebrated celebration recovery thrilled cheer welcome welcomed
        boost progress breakthrough relief
        good great excellent amazing wonderful fantastic positive success successful happy
        love loved best better improve improved improvement benefit beneficial strong gain
        gains growth win wins won effective efficient impressive brilliant delighted pleased
        outstanding reliable enjoy enjoyed perfect superb praise recommend helpful"""
    ),
    "de": _words(
        """gewinnt gewann gewonnen sieg siege siegt jubel feiern feierten
        erleichtert erleichterung begrüßt lob gelobt fortschritt durchbruch stolz überzeugt
        gut gute guter gutes besser beste hervorragend ausgezeichnet toll super wunderbar
        großartig positiv erfolg erfolgreich glücklich freude liebe lieben gewinn gewinne
        wachstum stark effizient zuverlässig begeistert zufrieden perfekt empfehlenswert
        hilfreich verbessert verbesserung schön"""
    ),
    "fr": _words(
        """victoire gagne gagné remporte remporté fête célèbre salue saluent
        progrès percée soulagement fier fière magnifique superbe
        bon bonne bons bonnes bien meilleur meilleure excellent excellente formidable
        merveilleux génial positif positive succès réussi réussite heureux heureuse aimer aime
        adore croissance gain gains efficace fiable impressionnant parfait parfaite satisfait
        ravi utile amélioration agréable"""
    ),
    "es": _words(
        """victoria gana ganó gol celebra celebraron remontada histórico histórica
        elogia avance logro alivio orgullo magnífico espectacular
        bueno buena buenos buenas bien mejor mejores excelente maravilloso fantástico genial
        positivo positiva éxito exitoso feliz alegría amor encanta gusta crecimiento ganancia
        ganancias fuerte eficaz eficiente fiable impresionante perfecto perfecta satisfecho
        útil mejora agradable"""
    ),
}

NEGATIVE: Mapping[str, frozenset[str]] = {
    "en": _words(
        """defeat killed dead death injured injury strike outage breach fire
        flood closure layoffs shortage warning victims
        bad worse worst terrible awful horrible poor negative fail failed failure sad hate
        hated dislike loss losses lose lost weak decline declined problem problems risk crisis
        broken disappointing disappointed angry dangerous useless wrong damage harm slow
        expensive scandal fraud attack collapse"""
    ),
    "de": _words(
        """niederlage verloren tot tote verletzt verletzung streik ausfall brand feuer
        flut schließt schließung entlassungen mangel warnung opfer insolvenz
        schlecht schlechte schlechter schlechtes schlimm schrecklich furchtbar negativ
        fehler versagen gescheitert traurig hass hassen verlust verluste schwach rückgang
        problem probleme risiko krise kaputt enttäuschend enttäuscht wütend gefährlich nutzlos
        falsch schaden teuer skandal betrug angriff zusammenbruch katastrophe mangelhaft"""
    ),
    "fr": _words(
        """défaite perdu mort morts blessé blessés grève panne incendie incendies
        inondation fermeture licenciements pénurie alerte victimes dévastée dévasté
        mauvais mauvaise pire terrible horrible affreux négatif négative échec échoué triste
        haine déteste perte pertes faible baisse déclin problème problèmes risque crise cassé
        décevant déçu colère dangereux inutile faux dommage scandale fraude attaque
        effondrement catastrophe"""
    ),
    "es": _words(
        """derrota perdió muerto muertos herido heridos huelga apagón incendio inundación
        cierre despidos escasez alerta víctimas
        malo mala malos malas peor terrible horrible negativo negativa fracaso fracasó
        triste odio odiar pérdida pérdidas débil caída declive problema problemas riesgo crisis
        roto decepcionante decepcionado enfadado peligroso inútil falso daño caro escándalo
        fraude ataque colapso catástrofe"""
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
