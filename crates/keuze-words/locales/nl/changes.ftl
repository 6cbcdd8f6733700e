-outside-eea = Dat is buiten de EER.

change-meaning = We hebben veranderd wat we voor dit doel doen. Lees de beschrijving daarom opnieuw.
change-legal-basis = We doen dit nu op basis van { $to }, in plaats van { $from }. { $means }
change-category-added = We gebruiken nu ook deze gegevens: { $name }.
change-category-removed = We gebruiken deze gegevens niet meer: { $name }.
change-recipient-added =
    We delen deze gegevens nu ook met { $name } ({ $country }).{ $outside-eea ->
        [yes] {" "}{ -outside-eea }
       *[no] {""}
    }
change-recipient-removed = We delen deze gegevens niet meer met { $name } ({ $country }).
change-recipient-moved =
    { $name } verwerkt deze gegevens nu in een ander land: { $to } (eerst: { $from }).{ $outside-eea ->
        [yes] {" "}{ -outside-eea }
       *[no] {""}
    }
change-retention-longer = We bewaren deze gegevens nu langer: { $to } in plaats van { $from }.
change-retention-shorter = We bewaren deze gegevens nu korter: { $to } in plaats van { $from }.
change-retention-restated = We bewaren deze gegevens nu { $to } in plaats van { $from }. Dat is even lang.
change-lifetime-longer = Je ja geldt nu langer: { $to } in plaats van { $from }.
change-lifetime-shorter = Je ja geldt nu korter: { $to } in plaats van { $from }.
change-lifetime-restated = Je ja geldt even lang als eerst: { $to } (eerst geschreven als { $from }).
change-lifetime-unlimited = Je ja geldt nu tot je het intrekt, niet meer { $from }.
change-lifetime-limited = Je ja geldt nu { $to }. Daarna vragen we het je opnieuw.
change-gpc-on = We zien een Global Privacy Control-signaal van je browser nu als een nee.
change-gpc-off = We zien een Global Privacy Control-signaal van je browser niet meer als een nee.
change-title-elsewhere = We hebben de titel in een andere taal aangepast ({ $languages }).
change-title = We hebben dit doel een nieuwe naam gegeven. Eerst heette het "{ $from }".
change-description-elsewhere = We hebben de beschrijving in een andere taal herschreven ({ $languages }).
change-description = We hebben de beschrijving herschreven.
change-told-what =
    { $what ->
        [benefit] wat je ervoor terugkrijgt
       *[alternative] wat er gebeurt als je nee zegt
    }
change-told-added = We vertellen nu { change-told-what }.
change-told-removed = We vertellen niet meer { change-told-what }.
change-told-elsewhere = We hebben in een andere taal herschreven { change-told-what } ({ $languages }).
change-told-reworded = We hebben herschreven { change-told-what }.
change-organisation-renamed = Onze naam is nu { $to } Eerst was het { $from }
change-contact = Je bereikt ons nu via { $to }.
change-privacy-contact = Voor vragen over privacy bereik je ons nu via { $to }.
change-organisation-moved = We zijn nu gevestigd in een ander land: { $to } (eerst: { $from }).
change-category-renamed-elsewhere = We hebben "{ $name }" in een andere taal een nieuwe naam gegeven ({ $languages }).
change-category-renamed = We hebben een soort gegevens een nieuwe naam gegeven: "{ $from }" heet nu "{ $to }".
change-category-sensitive = We behandelen deze gegevens nu als gevoelig: { $name }.
change-category-not-sensitive = We behandelen deze gegevens niet meer als gevoelig: { $name }.
change-tcf-signals-added = We geven je ja nu ook door aan de partijen waarmee we werken (via de TCF van IAB), voor: { $signals }.
change-tcf-signals-removed = We geven je ja niet meer door aan partijen voor: { $signals }.
change-tcf-vendors-added = We geven je ja nu ook door aan deze partijen op de lijst van IAB: { $vendors }.
change-tcf-vendors-removed = We geven je ja niet meer door aan deze partijen op de lijst van IAB: { $vendors }.
change-tcf-vendors-more = { $shown } en nog { $more }
change-tcf-settings = We hebben technische gegevens van onze toestemmingssignalen (TC-strings) aangepast: { $to } (eerst: { $from }).
change-tcf-settings-values = CMP { $cmp } versie { $version }, land van de uitgever { $country }

changes-none = Geen wijzigingen.
changes-purpose-heading =
    { $title } ({ $purpose }): { $status ->
        [added] nieuw doel
        [removed] verwijderd
        [material] materiële wijziging
       *[minor] alleen kleine wijzigingen
    }
changes-organisation-heading = Organisatie: kleine wijzigingen
changes-categories-heading = Soorten gegevens: kleine wijzigingen
changes-material = materieel
changes-minor = klein
changes-summary = Doelen: { $material } materieel gewijzigd, { $minor } alleen op kleine punten gewijzigd, { $added } nieuw, { $removed } verwijderd.
changes-ask-again = Klanten die instemden met een materieel gewijzigd doel, vragen we het opnieuw; tot ze ja zeggen, gaan we niet uit van hun eerdere toestemming.

change-purpose-added = Dit doel is nieuw.
change-purpose-removed = We gebruiken je gegevens niet meer voor dit doel.
