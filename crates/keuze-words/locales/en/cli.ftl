# The `keuze` command line: results, summaries, errors and progress an operator reads.
# Ids start with `cli-`. Machine output (JSON, keys, digests, TC strings) is not here.

## Every command

# The line an error ends the command with; $message says what, where and what to do.
cli-error = error: { $message }
cli-warning = warning: { $message }
cli-no-runtime = could not start the async runtime: { $error }
cli-log-format-unknown = KEUZE_LOG_FORMAT is `{ $format }`; use `text` (the default) or `json`
cli-could-not-read = could not read { $path }
cli-could-not-read-because = could not read { $path }: { $error }
cli-could-not-create = could not create { $path }
cli-could-not-write = could not write { $path }
cli-flag-invalid = { $flag }: { $error }

## keuze init

cli-init-exists = { $path } exists already; nothing was written (use --force to overwrite)
cli-wrote = wrote { $path }
cli-init-next = next: cd { $dir } && keuze catalog check catalog.toml && keuze serve

## keuze catalog

cli-catalog-unreadable = could not read the catalog { $file }
cli-catalog-refused-check = { $file } was refused; fix the errors above and run `keuze catalog check { $file }`
cli-check-strict = { $file } has warnings and --strict was given
cli-check-ok = { $file }: ok, { $count } purposes, digest { $digest }
cli-publish-unchanged = { $file } is identical to version { $number }, which is in force: nothing was published
cli-published = published { $file } as version { $number } ({ $digest })
cli-publish-refused = { $file } was refused; nothing was published
cli-publish-broken-promise =
    { $error }
    nothing was published
cli-no-catalog = no catalog
cli-vendor-list-unreadable = could not read the vendor list { $file }
cli-vendor-list-invalid = { $file } is not a Global Vendor List Keuze can use: { $error }. Give the IAB's vendor-list.json of format 3 (https://vendor-list.consensu.org/v3/vendor-list.json)
# A published catalog version named on the command line, e.g. in `keuze catalog diff 1 2`.
cli-version-name = version { $number }
cli-diff-arg-neither = `{ $arg }` is neither a file nor a version number
cli-diff-no-version = there is no file `{ $arg }`, and no published version { $number } in { $data }
cli-diff-same = { $old } and { $new } say the same thing: nothing changed
cli-diff-heading = == { $old } -> { $new } ({ $locale })

## keuze ledger, keuze log, keuze receipt

cli-projection-differs = the projection differs from a rebuild in { $count } places: { $differences }
cli-projection-ok = ok: the projection equals a rebuild from the ledger ({ $rows } current choices)
cli-rebuilt = rebuilt the projection from { $entries } ledger entries: { $rows } current choices
# A progress bar: the variables are filled in as the work goes on.
cli-ledger-verify-progress = { $spinner } verifying { $pos }/{ $len } events [{ $bar }] { $per_sec } { $eta } left
cli-ledger-verified = ok: { $entries } ledger entries ({ $consent_events } consent events, { $admin_actions } admin actions, { $notices } incident notices), { $nodes } tree nodes and { $checkpoints } checkpoints verified in { $seconds } s{ $root ->
        [none] {""}
       *[other] ; root { $root }
    }
cli-ledger-does-not-verify = the ledger does not verify: { $mismatch }
cli-key-flag-invalid = --key { $key }: { $error }
cli-rotation-not-audited = the rotation cannot be audited: { $error }
cli-log-key-rotated = new checkpoints will be signed with this key (restart the server):
cli-receipt-invalid = { $file } is not a Keuze receipt: { $error } (line { $line }, column { $column })
cli-receipt-does-not-verify = { $file } does not verify: { $error }
cli-receipt-ok = ok: event { $seq } ({ $action } { $purpose } by { $controller }) is in the log { $origin } at size { $size }, signed by a given key

## keuze key

cli-scope-unknown = `{ $scope }` is not a scope; use one of: decide, record, admin, audit
cli-key-created = created API key { $id } with scopes { $scopes }; it is shown only once:
# A column of `keuze key list`.
cli-key-list-revoked = revoked { $at }
cli-key-unknown = there is no API key `{ $id }` in { $data }; `keuze key list` shows the ids (the 16 hex digits after `kz_`)
cli-key-revoked-already = API key { $id } was revoked already, at { $at }; nothing was changed
cli-key-revoked = revoked API key { $id } ({ $label }); audit entry { $seq }
cli-key-refused-within = running servers refuse it within { $seconds } s
cli-key-revoked-meanwhile = API key { $id } was revoked meanwhile by someone else; nothing was changed

## keuze incident

# Under a problem with a field: how to fix it.
cli-help = help: { $help }
cli-incident-refused =
    the incident is refused; nothing was recorded ({ $count } problems):
    { $problems }
cli-incident-unknown = there is no incident { $number }; `keuze incident list` lists them
cli-incident-none = no incidents recorded
# Columns of `keuze incident list`.
cli-incident-not-published = not published
cli-incident-published-at = published { $at }
cli-incident-title = { $risk ->
        [high] high risk: { $title }
       *[normal] { $title }
    }
cli-incident-notified-count = notified { $count }
cli-incident-acknowledged-count = acknowledged { $count }
cli-incident-audience = the rule (granted any of { $purposes } at some moment from { $from } to { $to }) selects { $selected } customers; { $before } were told before, { $now } would be told now
cli-incident-notified = incident { $number }: { $affected } customers affected; told { $notified } now, { $before } were told before, { $erased } are erased
cli-incident-ledger-entries = ledger entries { $first } to { $last }
cli-incident-on-register = incident { $number } is on the public register at /privacy/incidents (since { $since })
cli-incident-file-invalid = { $file } is not an incident file; nothing was recorded: { $error }
cli-incident-recorded = recorded incident { $number } ({ $digest }); tell the affected customers with `keuze incident notify { $number }`
cli-purpose-unknown = --purpose `{ $purpose }` is not a purpose of any published catalog version; `keuze catalog diff` and GET /v1/catalog show them
cli-incident-no-purpose = the incident names no purpose: say whose grants select the customers with --purpose
cli-time-invalid = { $flag } `{ $value }` is not an RFC 3339 time, e.g. 2026-11-02T09:00:00Z
cli-from-after-to = --from is after --to
cli-no-server-secret = { $data } holds no server secret (secret.key), so identifiers cannot be turned into the pseudonyms the server uses; run this where the server's data directory is
cli-identifiers-unreadable-line = { $file } line { $line }: cannot be read ({ $error }); nothing was written
cli-identifier-too-long = { $file } line { $line }: an identifier is at most 256 characters; nothing was written

## keuze tcf

cli-tc-undecodable = the TC string cannot be decoded: { $error }. Check that the whole string was copied: a TC string is base64url text, its segments joined by `.`
cli-tc-finding = finding (vendor list { $version }): { $field }: { $problem }
cli-tc-checked = { $count ->
        [0] Checked against vendor list { $version }: no findings.
        [one] Checked against vendor list { $version }: { $count } finding:
       *[other] Checked against vendor list { $version }: { $count } findings:
    }
cli-tc-stdin-unreadable = could not read the model from stdin: { $error }
cli-tc-not-a-model = { $file } is not a TC model: { $error }. Write it as `keuze tcf decode --json` prints one
cli-tc-cannot-encode = { $file } cannot be encoded: field { $error }
cli-yes = yes
cli-no = no
cli-tc-none = none
cli-tc-no-segment = (no segment)
# A set of vendors: ranges of ids, then how many.
cli-tc-vendor-runs = { $runs } ({ $count } { $count ->
        [one] vendor
       *[other] vendors
    })
# Headings and field labels of `keuze tcf decode`; the TCF's own names for them.
cli-tc-core-segment = Core segment
cli-tc-version = Version
cli-tc-created = Created
cli-tc-last-updated = Last updated
cli-tc-cmp = CMP
cli-tc-cmp-value = { $id } version { $version }
cli-tc-consent-screen = Consent screen
cli-tc-consent-language = Consent language
cli-tc-vendor-list-version = Vendor list version
cli-tc-policy-version = Policy version
cli-tc-service-specific = Service-specific
cli-tc-non-standard-texts = Non-standard texts
cli-tc-purpose-one-treatment = Purpose one treatment
cli-tc-publisher-country = Publisher country
cli-tc-special-feature-opt-ins = Special feature opt-ins
cli-tc-purpose-consents = Purpose consents
cli-tc-purpose-legitimate-interests = Purpose legitimate interests
cli-tc-vendor-consents = Vendor consents
cli-tc-vendor-legitimate-interests = Vendor legitimate interests
cli-tc-publisher-restrictions = Publisher restrictions
cli-tc-restriction = purpose { $purpose }, { $kind ->
        [not-allowed] not allowed
        [require-consent] require consent
        [require-legitimate-interest] require legitimate interest
       *[undefined] undefined (type 3)
    }: { $vendors }
cli-tc-disclosed-vendors-segment = Disclosed vendors segment
cli-tc-allowed-vendors-segment = Allowed vendors segment
cli-tc-publisher-tc-segment = Publisher TC segment
cli-tc-custom-purposes = Custom purposes
cli-tc-custom-purpose-consents = Custom purpose consents
cli-tc-custom-legitimate-interests = Custom legitimate interests

## keuze backup, keuze restore

cli-could-not-open = could not open { $path }
cli-could-not-copy = could not copy { $from } into { $to }
cli-could-not-move = could not move { $from } to { $to }
cli-could-not-replace = could not replace { $path }
cli-could-not-remove = could not remove { $path }
cli-could-not-sync = could not sync { $path }
cli-could-not-restrict = could not restrict { $path }
cli-backup-sqlite-only = keuze { $command } copies the SQLite data directory; a PostgreSQL database is backed up with its own tools (pg_dump or continuous archiving; see docs/operations.md, "Backup and restore"). Keep a copy of the data directory's secret.key and log.key with it: without them no stored pseudonym can be found again
cli-backup-no-database = { $data } has no database ({ $file }); nothing was written. Name the data directory with --data (or `data` in keuze.toml)
cli-backup-key-missing = { $path } is missing, so the backup has no { $key }
cli-backup-copy-does-not-verify = the copy of { $data } does not verify; nothing was written
cli-backed-up = backed up { $entries } ledger entries (root { $root }), { $erased } erased subjects and { $files } files from { $from } to { $to } in { $seconds } s
cli-backup-projection-differs = the projection differs from a rebuild from the ledger in { $count } places: { $differences }
cli-backup-path-not-utf8 = { $path } is not valid UTF-8; SQLite needs the backup path as text
cli-backup-dir-not-empty = { $dir } is not an empty directory; nothing was written. A backup goes into a new or empty directory: choose a new directory
cli-backup-path-no-directory = { $path } names no directory; give a path such as ./keuze-backup
cli-journal-not-empty = { $path } still holds { $bytes } bytes after closing the database
cli-restore-target-not-empty = { $target } is not empty; nothing was restored. Stop any server using it, then give --force to replace it (its current files are moved aside, not deleted)
cli-restore-does-not-verify = { $dir } does not verify; nothing was restored
cli-restore-ledger-differs = { $dir } holds { $entries } ledger entries with root { $root } but its manifest says { $manifest_entries } with root { $manifest_root }: the backup is damaged; nothing was restored
cli-restore-could-not-move-aside = could not move { $target } aside to { $aside }; nothing was restored (the verified copy is in { $staging })
cli-restore-verified = ok: { $entries } ledger entries, { $nodes } tree nodes and { $checkpoints } checkpoints verified; root { $root }
cli-restored = restored the backup of { $created } from { $dir } into { $target }
cli-restore-aside = the files { $target } held before are in { $aside }; delete them once the restore is checked
cli-restore-reapplied = re-applied { $count } erasures that { $target } recorded after the backup was taken
cli-restore-erasures-warning = the backup holds { $erased } erased subjects, as of { $created }. Subjects erased after that are not erased in it{ $replaced ->
        [yes] {" "}unless the data directory replaced recorded them (those are re-applied)
       *[no] {""}
    }: re-apply those erasures before serving (docs/operations.md, "Restore and erasure")
cli-restore-erasures-unreadable = could not read the erasures { $data } recorded; nothing was restored
cli-restore-no-catalog-for-erasures = { $count } subjects erased in the replaced data directory must be erased again, but the backup holds no catalog to record the erasure against; nothing was restored
cli-restore-no-manifest = { $dir } has no { $manifest }, so it is not a backup made by `keuze backup` (or it is incomplete); nothing was restored
cli-restore-manifest-unreadable = could not read { $path }: { $error }; nothing was restored
cli-restore-manifest-invalid = { $path }:{ $line }:{ $column }: not a backup manifest: { $error }; the backup is damaged, nothing was restored
cli-restore-manifest-format = { $path } has format { $format }, this keuze reads format { $supported }; restore it with the keuze version that made it ({ $version }); nothing was restored
cli-restore-manifest-stray-file = { $path } lists the file `{ $file }`, which a backup does not hold (or lists it twice); the backup is damaged, nothing was restored
cli-restore-manifest-no-database = { $path } lists no { $file }; the backup is damaged, nothing was restored
cli-restore-file-missing = { $path } is missing from the backup; nothing was restored
cli-restore-file-differs = { $path } does not match the backup's manifest ({ $bytes } bytes with SHA-256 { $sha256 }, the manifest says { $manifest_bytes } bytes with SHA-256 { $manifest_sha256 }): the backup is damaged; nothing was restored. Use another backup

## The data directory and the database

cli-could-not-create-data-dir = could not create the data directory { $path }
cli-secret-damaged = { $path } holds { $bytes } bytes, not 32: it is damaged. Restore it from a backup; a new secret would make every stored pseudonym unreachable
cli-log-key-damaged = { $path } is damaged; restore it from a backup
cli-log-key-two-lines = expected two lines: the log origin and the key seed in hex
cli-log-key-seed-invalid = the key seed is not 64 hex digits: { $error }
cli-database-scheme-unsupported = --database { $url }: the scheme `{ $scheme }://` is not supported; use postgres://user@host:port/database for PostgreSQL, or leave --database out for SQLite in the data directory
cli-database-not-a-url = --database { $url }: not a URL; write postgres://user@host:port/database, or leave --database out for SQLite in the data directory
cli-database-schema-needs-postgres = --database-schema { $schema } needs --database postgres://…; SQLite keeps its tables in the data directory's file
cli-database-schema-invalid = --database-schema { $schema }: use lower-case letters, digits and `_`, starting with a letter or `_` (not `pg_`), at most 63 bytes
# One difference between the stored projection and a rebuild from the ledger.
cli-projection-stale = subject { $subject } purpose { $purpose }: the projection holds event { $held }, the ledger's latest is { $latest }
cli-projection-extra-row = subject { $subject } purpose { $purpose }: the projection holds event { $held }, which a rebuild would not (a second row for the pair, or a subject without ledger events)
cli-projection-missing-row = subject { $subject } purpose { $purpose }: the projection has no row, the ledger's latest is event { $latest }

## keuze serve
cli-serve-cannot-listen = could not listen on { $address }
cli-serve-listening = keuze listening on { $url }
cli-serve-failed = the server failed
cli-serve-sample-vendor-list = the built-in sample vendor list: { $error }
cli-serve-vendors-not-on-list = catalog version { $version } names vendors the vendor list does not let receive signals: { $vendors }. Nothing was started. Remove them from the catalog's [tcf] vendors and publish it (keuze catalog publish), or give a vendor list that has them (--tcf-vendor-list)
cli-serve-config-limit = the config file's `{ $key }`: { $error }
cli-serve-tls-needs-both = HTTPS needs both a certificate and its key: set tls_cert and tls_key together
