## De voorkeurspagina /me.

me-title = Jouw privacykeuzes
me-intro = Hier kies je waarvoor we je gegevens mogen gebruiken. Elke schakelaar werkt met één klik, allebei de kanten op. Nee zeggen blokkeert nooit iets: je kunt gewoon alles blijven kopen en gebruiken.
me-changes = Wat er veranderde sinds je ja zei
me-changes-material = Dit is een belangrijke wijziging, dus we rekenen niet meer op je eerdere ja. Zet het weer aan als je akkoord bent.
me-presets = Kies met één klik
me-presets-intro = Elke knop zet alle schakelaars hieronder in één keer. Je kunt ze daarna nog elk apart aanpassen.
me-preset-current = (je huidige keuze)
me-purposes = Je keuzes per doel
me-always-on = Altijd aan.
me-not-switchable = Dit kun je niet uitzetten; hieronder lees je waarom.
me-not-asked = Je hebt nog niet gekozen, dus het staat uit.
me-expired = Je ja is verlopen, dus het staat uit. Zet het aan als je opnieuw ja wilt zeggen.
me-reconsent = Dit is veranderd sinds je ja zei, dus het staat uit tot je opnieuw ja zegt.
me-what-changed = Wat er veranderde
me-history = Je keuzes tot nu toe
me-history-intro = De nieuwste eerst. Bij elke keuze kun je een bewijs downloaden: door ons ondertekend bewijs dat we je keuze vastlegden.
me-history-empty = Je hebt nog geen keuzes gemaakt.
me-receipt = Download bewijs nr.
me-your-data = Je gegevens
me-export-intro = Alles wat we over je keuzes bewaren, in één bestand.
me-export = Download al je gegevens (JSON)
me-erase = Je gegevens wissen
me-erase-intro = We vergeten dan je keuzes. Het bewijs dat er keuzes zijn vastgelegd blijft, maar is niet meer aan jou te koppelen. Je bezoek stopt dan ook.
me-erase-confirm = Ja, wis mijn gegevens. Ik begrijp dat dit niet terug te draaien is.
me-erase-button = Wis mijn gegevens
me-erase-unconfirmed = Er is niets gewist. Vink eerst het vakje aan om te bevestigen dat je je gegevens wilt laten wissen.
me-stale = Wat we met je gegevens doen, veranderde terwijl deze pagina openstond. Er is niets opgeslagen: lees het opnieuw en kies nog een keer.
me-session-ends = Voor je veiligheid stopt dit bezoek om
me-back = Terug naar je keuzes
me-continue-title = Je privacykeuzes openen
me-continue-text = Een moment geduld.
me-continue-link = Verder naar je privacykeuzes
me-no-session-title = Deze link werkt niet
me-no-session-missing = Deze pagina toont je eigen keuzes, dus je hebt een persoonlijke link nodig.
me-no-session-expired = Deze link of dit bezoek is verlopen.
me-no-session-invalid = Deze link is niet geldig.
me-no-session-help = Voor je veiligheid werkt een link naar deze pagina 15 minuten, en duurt een bezoek een uur. Vraag ons om een nieuwe link, bijvoorbeeld in je account.
me-not-saved-title = Je keuze is niet opgeslagen
me-not-saved-csrf = We konden niet nagaan of dit van je eigen pagina kwam, dus er is niets veranderd. Ga terug naar je keuzes en probeer het opnieuw.
me-not-saved-form = Het formulier was niet compleet, dus er is niets veranderd. Ga terug naar je keuzes en probeer het opnieuw.
me-erased-title = Je gegevens zijn gewist
me-erased-text = We hebben je gegevens op je verzoek gewist. Er valt hier niets meer te kiezen.
me-erased-done = We hebben je gegevens gewist. Je bezoek is gestopt; je kunt deze pagina sluiten.

me-switch =
    { $state ->
        [on] { $purpose }: aan — zet uit
       *[off] { $purpose }: uit — zet aan
    }
me-history-line = { $purpose }: { me-history-what }, { me-history-source }.
me-history-what =
    { $action ->
        [grant] je zei ja
        [allow] je stond het toe
        [withdraw] je zei nee
        [object] je maakte bezwaar
       *[erase] gewist
    }
me-history-source =
    { $source ->
        [preference_center] op deze pagina
        [banner] in de banner op onze website
        [api] door ons vastgelegd
        [gpc] door het privacysignaal van je browser (GPC)
        [import] overgenomen uit onze eerdere administratie
       *[system] door ons systeem
    }
