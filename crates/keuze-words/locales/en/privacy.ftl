## The transparency pages: /privacy and /privacy/changes.

privacy-intro = This page tells you what we use your data for, and what you get in return. For each purpose you see which data we use, who else gets it, how long we keep it, and why we may use it.
privacy-who-we-are = Who we are
privacy-established-in = Based in
privacy-contact = Contact
privacy-privacy-contact = Questions about privacy
privacy-purposes = What we use your data for
privacy-on-this-page = Purposes on this page
privacy-legal-basis = Why we may do this
privacy-data = Which data
privacy-sensitive = (sensitive)
privacy-recipients = Who else gets it
privacy-no-recipients = No one else gets this data.
privacy-outside-eea = outside the EEA (European Economic Area)
privacy-retention = How long we keep it
privacy-consent-lifetime = How long your yes counts
# A name: most languages keep it in English.
privacy-gpc-title = Global Privacy Control
privacy-gpc = If your browser sends a Global Privacy Control signal, we take it as a no.
privacy-benefit = What you get
privacy-alternative = If you say no
privacy-alternative-object = If you object
privacy-version = Catalog version
privacy-published = published on
privacy-changes-published = Published on
privacy-digest = Fingerprint
privacy-as-json = This page as data (JSON)
privacy-changes = What changed, and when
privacy-incidents = Privacy incidents
privacy-back = How we use your data now
privacy-changes-intro = Each time we change what we do with your data, we publish a new version. Here you see every version, newest first, and what changed. After an important change we ask you again before we count on your yes.
privacy-in-force = in force now
privacy-first-version = The first version we published.
privacy-nothing-changed = Nothing changed in what we do with your data.
privacy-important = Important change
privacy-important-note = If you said yes to this before, we ask you again. Until you answer, we do not count on your earlier yes.
privacy-important-note-other = This changes what we do with your data. Please read it.
privacy-important-short = (important)
privacy-new-purpose = New purpose
privacy-removed-purpose = No longer used
privacy-changed-purpose = Changed
privacy-about-us = About us
privacy-kinds-of-data = Kinds of data

# The page's title. $org is the organisation's name.
privacy-title = How { $org } uses your data
privacy-changes-title = What changed in how { $org } uses your data
# $amount and $unit as in period-in-words.
privacy-retention-sentence = We keep it for { period-in-words }.
privacy-ask-again-sentence = We ask again after { period-in-words }.
