# De opdrachtregel `keuze`: uitkomsten, samenvattingen, fouten en voortgang die een beheerder leest.
# Ids beginnen met `cli-`. Uitvoer voor machines (JSON, sleutels, digests, TC-strings) staat hier niet.

## Elke opdracht

cli-error = fout: { $message }
cli-warning = waarschuwing: { $message }
cli-no-runtime = kon de async-runtime niet starten: { $error }
cli-log-format-unknown = KEUZE_LOG_FORMAT is `{ $format }`; gebruik `text` (de standaard) of `json`
cli-could-not-read = kon { $path } niet lezen
cli-could-not-read-because = kon { $path } niet lezen: { $error }
cli-could-not-create = kon { $path } niet aanmaken
cli-could-not-write = kon { $path } niet schrijven
cli-flag-invalid = { $flag }: { $error }

## keuze init

cli-init-exists = { $path } bestaat al; er is niets geschreven (gebruik --force om te overschrijven)
cli-wrote = { $path } geschreven
cli-init-next = volgende stap: cd { $dir } && keuze catalog check catalog.toml && keuze serve

## keuze catalog

cli-catalog-unreadable = kon de catalogus { $file } niet lezen
cli-catalog-refused-check = { $file } is geweigerd; herstel de fouten hierboven en voer `keuze catalog check { $file }` uit
cli-check-strict = { $file } heeft waarschuwingen en --strict is gegeven
cli-check-ok = { $file }: in orde, { $count ->
        [one] { $count } doel
       *[other] { $count } doelen
    }, digest { $digest }
cli-publish-unchanged = { $file } is gelijk aan versie { $number }, die van kracht is: er is niets gepubliceerd
cli-published = { $file } gepubliceerd als versie { $number } ({ $digest })
cli-publish-refused = { $file } is geweigerd; er is niets gepubliceerd
cli-publish-broken-promise =
    { $error }
    er is niets gepubliceerd
cli-no-catalog = geen catalogus
cli-vendor-list-unreadable = kon de vendorlijst { $file } niet lezen
cli-vendor-list-invalid = { $file } is geen Global Vendor List die Keuze kan gebruiken: { $error }. Geef de vendor-list.json van IAB in formaat 3 (https://vendor-list.consensu.org/v3/vendor-list.json)
cli-version-name = versie { $number }
cli-diff-arg-neither = `{ $arg }` is geen bestand en geen versienummer
cli-diff-no-version = er is geen bestand `{ $arg }` en geen gepubliceerde versie { $number } in { $data }
cli-diff-same = { $old } en { $new } zeggen hetzelfde: er is niets veranderd
cli-diff-heading = == { $old } -> { $new } ({ $locale })

## keuze ledger, keuze log, keuze receipt

cli-projection-differs = de projectie wijkt op { $count ->
        [one] { $count } plek
       *[other] { $count } plekken
    } af van een herbouw: { $differences }
cli-projection-ok = in orde: de projectie is gelijk aan een herbouw uit het grootboek ({ $rows ->
        [one] { $rows } huidige keuze
       *[other] { $rows } huidige keuzes
    })
cli-rebuilt = de projectie is herbouwd uit { $entries ->
        [one] { $entries } grootboekregel
       *[other] { $entries } grootboekregels
    }: { $rows ->
        [one] { $rows } huidige keuze
       *[other] { $rows } huidige keuzes
    }
cli-ledger-verify-progress = { $spinner } controleren: { $pos }/{ $len } gebeurtenissen [{ $bar }] { $per_sec } nog { $eta }
cli-ledger-verified = in orde: { $entries ->
        [one] { $entries } grootboekregel
       *[other] { $entries } grootboekregels
    } ({ $consent_events } toestemmingsgebeurtenissen, { $admin_actions } beheeracties, { $notices } incidentmeldingen), { $nodes } boomknopen en { $checkpoints } checkpoints gecontroleerd in { $seconds } s{ $root ->
        [none] {""}
       *[other] ; wortel { $root }
    }
cli-ledger-does-not-verify = het grootboek klopt niet: { $mismatch }
cli-key-flag-invalid = --key { $key }: { $error }
cli-rotation-not-audited = de sleutelwissel kan niet in het auditspoor worden vastgelegd: { $error }
cli-log-key-rotated = nieuwe checkpoints worden met deze sleutel ondertekend (herstart de server):
cli-receipt-invalid = { $file } is geen ontvangstbewijs van Keuze: { $error } (regel { $line }, kolom { $column })
cli-receipt-does-not-verify = { $file } klopt niet: { $error }
cli-receipt-ok = in orde: gebeurtenis { $seq } ({ $action } { $purpose } door { $controller }) staat in het log { $origin } bij grootte { $size }, ondertekend door een van de gegeven sleutels

## keuze key

cli-scope-unknown = `{ $scope }` is geen bereik; gebruik een van: decide, record, admin, audit
cli-key-created = API-sleutel { $id } aangemaakt met de bereiken { $scopes }; hij wordt maar één keer getoond:
cli-key-list-revoked = ingetrokken { $at }
cli-key-unknown = er is geen API-sleutel `{ $id }` in { $data }; `keuze key list` toont de ids (de 16 hexadecimale cijfers na `kz_`)
cli-key-revoked-already = API-sleutel { $id } was al ingetrokken, op { $at }; er is niets veranderd
cli-key-revoked = API-sleutel { $id } ingetrokken ({ $label }); auditregel { $seq }
cli-key-refused-within = draaiende servers weigeren hem binnen { $seconds } s
cli-key-revoked-meanwhile = API-sleutel { $id } is intussen door iemand anders ingetrokken; er is niets veranderd

## keuze incident

cli-help = hulp: { $help }
cli-incident-refused =
    het incident is geweigerd; er is niets vastgelegd ({ $count ->
        [one] { $count } probleem
       *[other] { $count } problemen
    }):
    { $problems }
cli-incident-unknown = er is geen incident { $number }; `keuze incident list` toont ze
cli-incident-none = geen incidenten vastgelegd
cli-incident-not-published = niet gepubliceerd
cli-incident-published-at = gepubliceerd { $at }
cli-incident-title = { $risk ->
        [high] hoog risico: { $title }
       *[normal] { $title }
    }
cli-incident-notified-count = geïnformeerd { $count }
cli-incident-acknowledged-count = bevestigd { $count }
cli-incident-audience = de regel (gaf toestemming voor een van { $purposes } op enig moment van { $from } tot { $to }) selecteert { $selected ->
        [one] { $selected } klant
       *[other] { $selected } klanten
    }; { $before } kregen al eerder bericht, { $now } zouden nu bericht krijgen
cli-incident-notified = incident { $number }: { $affected ->
        [one] { $affected } klant
       *[other] { $affected } klanten
    } getroffen; { $notified } nu geïnformeerd, { $before } kregen al eerder bericht, { $erased } zijn gewist
cli-incident-ledger-entries = grootboekregels { $first } tot en met { $last }
cli-incident-on-register = incident { $number } staat in het openbare register op /privacy/incidents (sinds { $since })
cli-incident-file-invalid = { $file } is geen incidentbestand; er is niets vastgelegd: { $error }
cli-incident-recorded = incident { $number } vastgelegd ({ $digest }); informeer de getroffen klanten met `keuze incident notify { $number }`
cli-purpose-unknown = --purpose `{ $purpose }` is geen doel van een gepubliceerde catalogusversie; `keuze catalog diff` en GET /v1/catalog tonen ze
cli-incident-no-purpose = het incident noemt geen doel: geef met --purpose aan wiens toestemmingen de klanten selecteren
cli-time-invalid = { $flag } `{ $value }` is geen RFC 3339-tijd, bijvoorbeeld 2026-11-02T09:00:00Z
cli-from-after-to = --from ligt na --to
cli-no-server-secret = { $data } bevat geen servergeheim (secret.key), dus identificatoren kunnen niet worden omgezet in de pseudoniemen die de server gebruikt; voer dit uit waar de datamap van de server staat
cli-identifiers-unreadable-line = { $file } regel { $line }: kan niet worden gelezen ({ $error }); er is niets geschreven
cli-identifier-too-long = { $file } regel { $line }: een identificator is hoogstens 256 tekens; er is niets geschreven

## keuze tcf

cli-tc-undecodable = de TC-string kan niet worden gedecodeerd: { $error }. Controleer of de hele string is gekopieerd: een TC-string is base64url-tekst, met de segmenten verbonden door `.`
cli-tc-finding = bevinding (vendorlijst { $version }): { $field }: { $problem }
cli-tc-checked = { $count ->
        [0] Gecontroleerd tegen vendorlijst { $version }: geen bevindingen.
        [one] Gecontroleerd tegen vendorlijst { $version }: { $count } bevinding:
       *[other] Gecontroleerd tegen vendorlijst { $version }: { $count } bevindingen:
    }
cli-tc-stdin-unreadable = kon het model niet lezen van stdin: { $error }
cli-tc-not-a-model = { $file } is geen TC-model: { $error }. Schrijf het zoals `keuze tcf decode --json` er een afdrukt
cli-tc-cannot-encode = { $file } kan niet worden gecodeerd: veld { $error }
cli-yes = ja
cli-no = nee
cli-tc-none = geen
cli-tc-no-segment = (geen segment)
cli-tc-vendor-runs = { $runs } ({ $count ->
        [one] { $count } vendor
       *[other] { $count } vendors
    })
cli-tc-core-segment = Kernsegment
cli-tc-version = Versie
cli-tc-created = Aangemaakt
cli-tc-last-updated = Laatst bijgewerkt
cli-tc-cmp = CMP
cli-tc-cmp-value = { $id } versie { $version }
cli-tc-consent-screen = Toestemmingsscherm
cli-tc-consent-language = Taal van de toestemming
cli-tc-vendor-list-version = Versie van de vendorlijst
cli-tc-policy-version = Beleidsversie
cli-tc-service-specific = Dienstspecifiek
cli-tc-non-standard-texts = Niet-standaardteksten
cli-tc-purpose-one-treatment = Behandeling van doel 1
cli-tc-publisher-country = Land van de publisher
cli-tc-special-feature-opt-ins = Opt-ins voor speciale functies
cli-tc-purpose-consents = Toestemming per doel
cli-tc-purpose-legitimate-interests = Gerechtvaardigd belang per doel
cli-tc-vendor-consents = Toestemming per vendor
cli-tc-vendor-legitimate-interests = Gerechtvaardigd belang per vendor
cli-tc-publisher-restrictions = Beperkingen van de publisher
cli-tc-restriction = doel { $purpose }, { $kind ->
        [not-allowed] niet toegestaan
        [require-consent] toestemming vereist
        [require-legitimate-interest] gerechtvaardigd belang vereist
       *[undefined] ongedefinieerd (type 3)
    }: { $vendors }
cli-tc-disclosed-vendors-segment = Segment openbaar gemaakte vendors
cli-tc-allowed-vendors-segment = Segment toegestane vendors
cli-tc-publisher-tc-segment = TC-segment van de publisher
cli-tc-custom-purposes = Eigen doelen
cli-tc-custom-purpose-consents = Toestemming per eigen doel
cli-tc-custom-legitimate-interests = Gerechtvaardigd belang eigen doelen

## keuze backup, keuze restore

cli-could-not-open = kon { $path } niet openen
cli-could-not-copy = kon { $from } niet kopiëren naar { $to }
cli-could-not-move = kon { $from } niet verplaatsen naar { $to }
cli-could-not-replace = kon { $path } niet vervangen
cli-could-not-remove = kon { $path } niet verwijderen
cli-could-not-sync = kon { $path } niet naar schijf wegschrijven
cli-could-not-restrict = kon de rechten op { $path } niet beperken
cli-backup-sqlite-only = keuze { $command } kopieert de SQLite-datamap; van een PostgreSQL-database maak je een back-up met de eigen hulpmiddelen van PostgreSQL (pg_dump of continue archivering; zie docs/operations.md, "Backup and restore"). Bewaar er een kopie van secret.key en log.key uit de datamap bij: zonder die bestanden is geen opgeslagen pseudoniem meer terug te vinden
cli-backup-no-database = { $data } heeft geen database ({ $file }); er is niets geschreven. Geef de datamap op met --data (of `data` in keuze.toml)
cli-backup-key-missing = { $path } ontbreekt, dus de back-up heeft geen { $key }
cli-backup-copy-does-not-verify = de kopie van { $data } klopt niet; er is niets geschreven
cli-backed-up = back-up gemaakt van { $entries ->
        [one] { $entries } grootboekregel
       *[other] { $entries } grootboekregels
    } (wortel { $root }), { $erased ->
        [one] { $erased } gewiste persoon
       *[other] { $erased } gewiste personen
    } en { $files ->
        [one] { $files } bestand
       *[other] { $files } bestanden
    } van { $from } naar { $to } in { $seconds } s
cli-backup-projection-differs = de projectie wijkt op { $count ->
        [one] { $count } plek
       *[other] { $count } plekken
    } af van een herbouw uit het grootboek: { $differences }
cli-backup-path-not-utf8 = { $path } is geen geldige UTF-8; SQLite heeft het pad van de back-up als tekst nodig
cli-backup-dir-not-empty = { $dir } is geen lege map; er is niets geschreven. Een back-up komt in een nieuwe of lege map: kies een nieuwe map
cli-backup-path-no-directory = { $path } noemt geen map; geef een pad zoals ./keuze-backup
cli-journal-not-empty = { $path } bevat na het sluiten van de database nog { $bytes } bytes
cli-restore-target-not-empty = { $target } is niet leeg; er is niets teruggezet. Stop elke server die de map gebruikt en geef dan --force om hem te vervangen (de huidige bestanden worden opzijgezet, niet verwijderd)
cli-restore-does-not-verify = { $dir } klopt niet; er is niets teruggezet
cli-restore-ledger-differs = { $dir } bevat { $entries } grootboekregels met wortel { $root }, maar het manifest zegt { $manifest_entries } met wortel { $manifest_root }: de back-up is beschadigd; er is niets teruggezet
cli-restore-could-not-move-aside = kon { $target } niet opzijzetten naar { $aside }; er is niets teruggezet (de gecontroleerde kopie staat in { $staging })
cli-restore-verified = in orde: { $entries ->
        [one] { $entries } grootboekregel
       *[other] { $entries } grootboekregels
    }, { $nodes } boomknopen en { $checkpoints } checkpoints gecontroleerd; wortel { $root }
cli-restored = de back-up van { $created } is teruggezet van { $dir } naar { $target }
cli-restore-aside = de bestanden die eerder in { $target } stonden, staan nu in { $aside }; verwijder ze zodra het terugzetten is gecontroleerd
cli-restore-reapplied = { $count ->
        [one] { $count } wissing
       *[other] { $count } wissingen
    } opnieuw toegepast die { $target } na het maken van de back-up had vastgelegd
cli-restore-erasures-warning = de back-up bevat { $erased ->
        [one] { $erased } gewiste persoon
       *[other] { $erased } gewiste personen
    }, per { $created }. Wie daarna is gewist, is in de back-up niet gewist{ $replaced ->
        [yes] , tenzij de vervangen datamap die wissingen had vastgelegd (die zijn opnieuw toegepast)
       *[no] {""}
    }: pas die wissingen opnieuw toe voordat je de server start (docs/operations.md, "Restore and erasure")
cli-restore-erasures-unreadable = kon de wissingen die { $data } had vastgelegd niet lezen; er is niets teruggezet
cli-restore-no-catalog-for-erasures = { $count ->
        [one] { $count } persoon die in de vervangen datamap is gewist, moet
       *[other] { $count } personen die in de vervangen datamap zijn gewist, moeten
    } opnieuw worden gewist, maar de back-up bevat geen catalogus om de wissing tegen vast te leggen; er is niets teruggezet
cli-restore-no-manifest = { $dir } heeft geen { $manifest }, dus het is geen back-up die met `keuze backup` is gemaakt (of hij is onvolledig); er is niets teruggezet
cli-restore-manifest-unreadable = kon { $path } niet lezen: { $error }; er is niets teruggezet
cli-restore-manifest-invalid = { $path }:{ $line }:{ $column }: geen manifest van een back-up: { $error }; de back-up is beschadigd, er is niets teruggezet
cli-restore-manifest-format = { $path } heeft formaat { $format }, deze keuze leest formaat { $supported }; zet hem terug met de keuze-versie die hem maakte ({ $version }); er is niets teruggezet
cli-restore-manifest-stray-file = { $path } noemt het bestand `{ $file }`, dat niet in een back-up hoort (of noemt het twee keer); de back-up is beschadigd, er is niets teruggezet
cli-restore-manifest-no-database = { $path } noemt geen { $file }; de back-up is beschadigd, er is niets teruggezet
cli-restore-file-missing = { $path } ontbreekt in de back-up; er is niets teruggezet
cli-restore-file-differs = { $path } komt niet overeen met het manifest van de back-up ({ $bytes } bytes met SHA-256 { $sha256 }, het manifest zegt { $manifest_bytes } bytes met SHA-256 { $manifest_sha256 }): de back-up is beschadigd; er is niets teruggezet. Gebruik een andere back-up

## De datamap en de database

cli-could-not-create-data-dir = kon de datamap { $path } niet aanmaken
cli-secret-damaged = { $path } bevat { $bytes } bytes in plaats van 32: het bestand is beschadigd. Zet het terug uit een back-up; met een nieuw geheim is geen enkel opgeslagen pseudoniem meer te vinden
cli-log-key-damaged = { $path } is beschadigd; zet het terug uit een back-up
cli-log-key-two-lines = twee regels verwacht: de oorsprong van het log en het zaad van de sleutel in hex
cli-log-key-seed-invalid = het zaad van de sleutel is geen 64 hexadecimale cijfers: { $error }
cli-database-scheme-unsupported = --database { $url }: het schema `{ $scheme }://` wordt niet ondersteund; gebruik postgres://gebruiker@host:poort/database voor PostgreSQL, of laat --database weg voor SQLite in de datamap
cli-database-not-a-url = --database { $url }: geen URL; schrijf postgres://gebruiker@host:poort/database, of laat --database weg voor SQLite in de datamap
cli-database-schema-needs-postgres = --database-schema { $schema } heeft --database postgres://… nodig; SQLite bewaart zijn tabellen in het bestand in de datamap
cli-database-schema-invalid = --database-schema { $schema }: gebruik kleine letters, cijfers en `_`, beginnend met een letter of `_` (niet `pg_`), hoogstens 63 bytes
cli-projection-stale = persoon { $subject } doel { $purpose }: de projectie bevat gebeurtenis { $held }, de laatste in het grootboek is { $latest }
cli-projection-extra-row = persoon { $subject } doel { $purpose }: de projectie bevat gebeurtenis { $held }, die een herbouw niet zou schrijven (een tweede rij voor het paar, of een persoon zonder gebeurtenissen in het grootboek)
cli-projection-missing-row = persoon { $subject } doel { $purpose }: de projectie heeft geen rij, de laatste gebeurtenis in het grootboek is { $latest }

## keuze serve
cli-serve-cannot-listen = kon niet luisteren op { $address }
cli-serve-listening = keuze luistert op { $url }
cli-serve-failed = de server is gestopt met een fout
cli-serve-sample-vendor-list = de ingebouwde voorbeeldlijst van leveranciers: { $error }
cli-serve-vendors-not-on-list = catalogusversie { $version } noemt leveranciers die volgens de leverancierslijst geen signalen mogen ontvangen: { $vendors }. Er is niets gestart. Haal ze uit de [tcf]-leveranciers van de catalogus en publiceer die (keuze catalog publish), of geef een leverancierslijst die ze wel heeft (--tcf-vendor-list)
cli-serve-config-limit = `{ $key }` in het configuratiebestand: { $error }
cli-serve-tls-needs-both = HTTPS heeft een certificaat én de bijbehorende sleutel nodig: zet tls_cert en tls_key allebei
