## De teksten van de banner, en de voorbeeldwinkel op /banner/demo.

banner-title = Jouw keuze
banner-intro =
    { $reason ->
        [again] { $org } vraagt je toestemming voor: { $purposes }. Jij kiest. Zeg je nee, dan kun je alles op deze site gewoon blijven doen. Er is iets veranderd sinds je vorige keuze, daarom vragen we het opnieuw.
       *[first] { $org } vraagt je toestemming voor: { $purposes }. Jij kiest. Zeg je nee, dan kun je alles op deze site gewoon blijven doen.
    }
banner-gpc = Je browser vraagt sites om je gegevens niet te delen of te verkopen (Global Privacy Control). Dat doen we: { $purposes } blijft uit.
banner-accept-all = Alles accepteren
banner-reject-all = Alles weigeren
banner-choose = Zelf kiezen
banner-choose-intro = Zet aan wat je wilt. Alles blijft uit tot jij het aanzet.
banner-save = Opslaan
banner-back = Terug
banner-benefit = Wat je krijgt:
banner-on = Aan
banner-off = Uit

demo-title = { $org } — demo van de keuzebanner
demo-settings = Privacy-instellingen
demo-heading = Fietsen voor elke dag
demo-intro-before-code = Dit is een voorbeeldwinkel die de keuzebanner van Keuze laadt met één regel:
demo-intro-after-code = De banner vraagt alleen wat gevraagd moet worden, en daarna niets meer.
demo-products = Aanbod
demo-product-city-bike = Stadsfiets Gracht
demo-product-e-bike = E-bike Dijk
demo-product-pannier = Fietstas Polder
demo-status = Wat deze winkel nu mag
demo-purpose = Doel
demo-allowed = Toegestaan
demo-yes = ja
demo-no = nee
