"""Word lists for the entity heuristics: places, first names, titles and organisation cues."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _tuple(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(";") if name.strip())


# Countries, continents, regions and large cities in the spellings of en, de, fr and es.
PLACES: frozenset[str] = _names(
    """Afghanistan; Africa; Afrika; Afrique; África; Albania; Algeria; Algérie; Amsterdam;
    America; Amerika; Amérique; América; Andalusia; Andalucía; Aragón; Argentina; Argentinien;
    Argentine; Arizona; Asia; Asien; Asie; Athens; Athen; Athènes; Atenas; Australia;
    Australien; Australie; Austria; Österreich; Autriche; Bavaria; Bayern; Bavière; Baviera;
    Barcelona; Barcelone; Beijing; Peking; Pékin; Pekín; Belgium; Belgien; Belgique; Bélgica;
    Berlin; Berlín; Bern; Berne; Bilbao; Birmingham; Bogotá; Bordeaux; Boston; Brazil;
    Brasilien; Brésil; Brasil; Bremen; Bristol; Brussels; Brüssel; Bruxelles; Bruselas;
    Budapest; Buenos Aires; Cairo; Kairo; Caire; California; Kalifornien; Californie;
    Canada; Kanada; Canadá; Castilla y León; Catalonia; Katalonien; Catalogne; Cataluña;
    Chicago; Chile; Chili; China; Chine; Cologne; Köln; Colonia; Copenhagen; Kopenhagen;
    Copenhague; Cuba; Kuba; Czech Republic; Denmark; Dänemark; Danemark; Dinamarca; Dortmund;
    Dresden; Dresde; Dublin; Dublín; Düsseldorf; Edinburgh; Édimbourg; Egypt; Ägypten; Égypte;
    Egipto; England; Angleterre; Inglaterra; Europe; Europa; Extremadura; Finland; Finnland;
    Finlande; Finlandia; Florence; Florenz; Florencia; France; Frankreich; Francia; Frankfurt;
    Francfort; Fráncfort; Geneva; Genf; Genève; Ginebra; Germany; Deutschland; Allemagne;
    Alemania; Glasgow; Granada; Greece; Griechenland; Grèce; Grecia; Hamburg; Hambourg;
    Hamburgo; Hanover; Hannover; Heidelberg; Hesse; Hessen; Hong Kong; Hungary; Ungarn;
    Hongrie; Hungría; India; Indien; Inde; Indonesia; Indonesien; Indonésie; Iran; Iraq; Irak;
    Ireland; Irland; Irlande; Irlanda; Israel; Israël; Istanbul; Estambul; Italy; Italien;
    Italie; Italia; Japan; Japon; Japón; Kenya; Kenia; Kyiv; Kiew; Kiev; Leipzig; Lille;
    Lisbon; Lissabon; Lisbonne; Lisboa; Liverpool; London; Londres; Los Angeles; Lyon; Lyons;
    Madrid; Magdeburg; Mainz; Málaga; Manchester; Marseille; Marsella; Mexico; Mexiko;
    Mexique; México; Milan; Mailand; Milán; Morocco; Marokko; Maroc; Marruecos; Moscow;
    Moskau; Moscou; Moscú; Munich; München; Múnich; Naples; Neapel; Nápoles; Netherlands;
    Niederlande; Pays-Bas; Países Bajos; New York; New Delhi; Nice; Niedersachsen; Nigeria;
    Normandy; Normandie; Normandía; Norway; Norwegen; Norvège; Noruega; Nuremberg; Nürnberg;
    Oslo; Ottawa; Oxford; Pakistan; Paris; París; Peru; Pérou; Perú; Poland; Polen; Pologne;
    Polonia; Portugal; Prague; Prag; Praga; Quebec; Québec; Rennes; Rio de Janeiro; Rome; Rom;
    Roma; Romania; Rumänien; Roumanie; Rumania; Russia; Russland; Russie; Rusia; Sachsen;
    Saxony; Saxe; Sajonia; Scotland; Schottland; Écosse; Escocia; Seville; Sevilla; Séville;
    Seoul; Seúl; Shanghai; Singapore; Singapur; Singapour; South Africa; Südafrika; Spain;
    Spanien; Espagne; España; Stockholm; Estocolmo; Strasbourg; Straßburg; Estrasburgo;
    Stuttgart; Sweden; Schweden; Suède; Suecia; Switzerland; Schweiz; Suisse; Suiza; Sydney;
    Taiwan; Texas; Tokyo; Tokio; Toronto; Toulouse; Turkey; Türkei; Turquie; Turquía; Ukraine;
    Ucrania; United Kingdom; Vereinigtes Königreich; Royaume-Uni; Reino Unido; United States;
    USA; Vereinigte Staaten; États-Unis; Estados Unidos; Valencia; Valence; Vienna; Wien;
    Vienne; Viena; Vietnam; Wales; Galles; Gales; Warsaw; Warschau; Varsovie; Varsovia;
    Washington; Zaragoza; Zurich; Zürich; Pyrenees; Pyrenäen; Pyrénées; Pirineos; Alps;
    Alpen; Alpes; Bretagne; Brittany; Bretaña; Provence; Galicia; Asturias; Navarra; Ruhr"""
)

# Common given names across the four languages' countries; a capitalised pair that starts
# with one of them is taken for a person.
FIRST_NAMES: frozenset[str] = _words(
    """Adam Adrian Alejandro Alex Alexander Alexandre Alice Ana Andrea Andreas Andrew Angela
    Anna Anne Antoine Antonio Ben Benjamin Camille Carlos Carmen Caroline Catherine Charles
    Charlotte Chloé Christian Christine Claire Claudia Daniel David Diego Elena Elisabeth
    Elizabeth Emily Emma Eric Eva Fatima Felix Fernando Florian Francisco François Frank Franz
    Frédéric Gabriel George Georg Hannah Hans Helen Henri Hugo Isabel Isabelle Jack Jacques
    James Jan Javier Jean Jennifer Jessica Jonas Jorge José Joseph Juan Julia Julian Julie
    Karim Karl Katharina Klaus Laura Laurent Lea Léa Leon Lisa Louis Lucas Lucía Luis Lukas
    Manuel Marc Marco Maria María Marie Mark Markus Martin Mary Matthias Max Michael Michel
    Miguel Mira Mohamed Nathalie Nicolas Nina Olivia Oliver Pablo Patrick Paul Pedro Peter
    Philippe Pierre Rafael Richard Robert Sam Samuel Sandra Sarah Sebastian Sophie Stefan
    Stephan Susanne Thomas Tim Tom Ursula Victor Wolfgang Yusuf"""
)

# Words before a name that say it is a person: titles and roles.
PERSON_CUES: frozenset[str] = _words(
    """Mr Mrs Ms Dr Prof Sir Dame Lady Lord Herr Frau M Mme Mlle Monsieur Madame Sr Sra Srta Don
    Doña President Präsident Président Presidente Minister Ministerin Ministre Ministro
    Chancellor Kanzler Kanzlerin Senator Mayor Bürgermeister Maire Alcalde Judge Richter Juge
    Juez captain coach striker goalkeeper chief executive director CEO founder singer author
    writer actor actress minister president mayor Trainer Torwart Kapitän Regisseur
    Regisseurin Vorstandschef Chef Sängerin Sänger Autorin Autor entraîneur attaquant
    capitaine chanteuse chanteur auteur écrivain réalisatrice réalisateur ministre maire
    entrenador delantero capitán cantante autor autora escritor director directora ministra
    alcalde"""
)

# Words inside a name that say it is an organisation.
ORGANISATION_CUES: frozenset[str] = _words(
    """Inc Corp Corporation Ltd LLC plc AG GmbH SE SA SL Co Company Group Groupe Grupo Holdings
    Bank Banque Banco Bundesbank University Universität Universitätsklinik Université
    Universidad College Institute Institut Instituto Ministry Ministerium Ministère Ministerio
    Museum Musée Museo Hospital Hôpital Klinik Klinikum Clinic Clínic Club FC SV CF AC United
    Racing Real Olympique Party Partei Parti Partido Council Rat Conseil Consejo Agency
    Agentur Agence Agencia Federation Verband Fédération Federación League Liga Ligue
    Parliament Parlament Bundestag Bundesrat Assemblée Congreso Senado Sénat Senate Commission
    Kommission Comisión Foundation Stiftung Fondation Fundación Association Verein Airlines
    Semiconductor Foods Retail Motors Media Technologies Systems Labs Bundesamt Office Amt
    Stadium Stadion Stade Estadio Schauspielhaus Theatre Theater Théâtre Teatro Orchestra
    Orchester Orchestre Orquesta Times Post News Zeitung Journal Diario Press Press Union
    Gewerkschaft Syndicat Sindicato Society Gesellschaft Société Sociedad"""
)

# Capitalised words that are never names on their own: months, days, sentence openers.
NOT_NAMES: frozenset[str] = _words(
    """January February March April May June July August September October November December
    Januar Februar März Mai Juni Juli Oktober Dezember Monday Tuesday Wednesday Thursday
    Friday Saturday Sunday Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag The A An
    This That These Those It He She They We I You His Her Their Our My Its What When Where Why
    How Who After Before While Although Because If In On At By For From With Without Under Over
    Der Die Das Den Dem Ein Eine En Del Al Nach Seit Mit Für Bei Auf Aus Im Am Es Er Sie Wir Ich
    Le La Les Un
    Une Des Du Au Aux Pour Avec Dans Selon Après Avant Il Elle Ils Elles Nous On Ce Cette Ces
    El Los Las Una Unos Con Para Por Según Tras Desde Según Ella Ellos Nosotros Este Esta Esto
    Yes No Oh Also And But Or So Then Today Yesterday Tomorrow Heute Gestern Morgen Aujourd
    Hier Demain Hoy Ayer Mañana"""
)

# Common nouns that introduce a name and say what it is: "the retailer Brightline",
# "le groupe Belrose", "la cadena Solmar"; German compounds end in them ("Modekette").
ORGANISATION_DESCRIPTORS: tuple[str, ...] = _tuple(
    """company firm group chain retailer maker manufacturer operator carmaker startup
    platform brand airline publisher insurer broadcaster unternehmen konzern firma gruppe
    kette hersteller bauer händler anbieter versicherer verlag marke plattform betreiber
    entreprise société groupe chaîne fabricant constructeur opérateur assureur marque
    plateforme éditeur enseigne distributeur empresa compañía grupo cadena fabricante
    constructora operadora operador aseguradora marca plataforma editorial"""
)
PLACE_DESCRIPTORS: tuple[str, ...] = _tuple(
    """city town village region county province stadt land landes gemeinde bundesland
    dorf ville région commune département village ciudad región municipio provincia
    pueblo comunidad"""
)
# Endings of one-word organisation names ("Nordbank", "Stadtwerke").
ORGANISATION_SUFFIXES: tuple[str, ...] = ("bank", "werke", "verlag", "versicherung")
# Organisation cue words that also name one institution on their own ("im Bundestag").
INSTITUTIONS: frozenset[str] = _words(
    """Bundestag Bundesrat Bundesbank Parliament Parlament Congreso Senado Sénat Senate
    Assemblée Liga Ligue"""
)
