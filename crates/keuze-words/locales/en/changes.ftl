## What changed in a new catalog version: one sentence per change, for the customer
## (/privacy/changes, the prompt's "what changed since you agreed") and for the
## catalog's author (keuze catalog diff, with the materiality and the rule).

-outside-eea = That is outside the EEA.

change-meaning = We changed what we do for this purpose. Please read its description again.
# $to and $from: legal-basis-name.mid-sentence; $means: legal-basis-explanation of $to.
change-legal-basis = We now do this based on { $to }, instead of { $from }. { $means }
# $name: the data category's name, mid-sentence ("e-mail address").
change-category-added = We now also use this data: { $name }.
change-category-removed = We no longer use this data: { $name }.
# $name: the recipient; $country: its country's name; $outside-eea: yes or no.
change-recipient-added =
    We now also share this data with { $name } ({ $country }).{ $outside-eea ->
        [yes] {" "}{ -outside-eea }
       *[no] {""}
    }
change-recipient-removed = We no longer share this data with { $name } ({ $country }).
# $to and $from: country names; $outside-eea: yes or no, for $to.
change-recipient-moved =
    { $name } now handles this data in another country: { $to } (before: { $from }).{ $outside-eea ->
        [yes] {" "}{ -outside-eea }
       *[no] {""}
    }
# $to and $from: periods in words (period-in-words).
change-retention-longer = We now keep this data longer: { $to } instead of { $from }.
change-retention-shorter = We now keep this data for a shorter time: { $to } instead of { $from }.
change-retention-restated = We now keep this data for { $to } instead of { $from }. That is just as long.
change-lifetime-longer = Your yes now counts for longer: { $to } instead of { $from }.
change-lifetime-shorter = Your yes now counts for a shorter time: { $to } instead of { $from }.
change-lifetime-restated = Your yes counts just as long as before: { $to } (written as { $from } before).
change-lifetime-unlimited = Your yes now counts until you take it back, no longer for { $from }.
change-lifetime-limited = Your yes now counts for { $to }. Then we ask you again.
change-gpc-on = We now treat a Global Privacy Control signal from your browser as a no.
change-gpc-off = We no longer treat a Global Privacy Control signal from your browser as a no.
# $languages: the codes of the languages whose text changed, e.g. "nl" or "en, nl".
change-title-elsewhere = We changed the title in another language ({ $languages }).
# $from: the old title.
change-title = We renamed this purpose. It was called "{ $from }".
change-description-elsewhere = We reworded the description in another language ({ $languages }).
change-description = We reworded the description.
# What the purpose tells the customer besides its description. $what: benefit or alternative.
change-told-what =
    { $what ->
        [benefit] what you get in return
       *[alternative] what happens if you say no
    }
change-told-added = We now say { change-told-what }.
change-told-removed = We no longer say { change-told-what }.
change-told-elsewhere = We reworded { change-told-what } in another language ({ $languages }).
change-told-reworded = We reworded { change-told-what }.
# $to and $from: names ending in a full stop ("Fietsen B.V.", "Acme.").
change-organisation-renamed = Our name is now { $to } It was { $from }
# $to: an e-mail address or web address.
change-contact = You now reach us at { $to }.
change-privacy-contact = For questions about privacy, you now reach us at { $to }.
change-organisation-moved = We are now established in another country: { $to } (before: { $from }).
# $name: the category's new name.
change-category-renamed-elsewhere = We renamed "{ $name }" in another language ({ $languages }).
change-category-renamed = We renamed a kind of data: "{ $from }" is now "{ $to }".
change-category-sensitive = We now treat this data as sensitive: { $name }.
change-category-not-sensitive = We no longer treat this data as sensitive: { $name }.
# $signals: TCF purpose and special feature names, mid-sentence, joined with "; ".
change-tcf-signals-added = We now also pass your yes on to the vendors we work with (through the IAB's TCF), for: { $signals }.
change-tcf-signals-removed = We no longer pass your yes on to vendors for: { $signals }.
# $vendors: vendor ids, at most ten, then change-tcf-vendors-more.
change-tcf-vendors-added = We now also pass your yes on to these vendors on the IAB's vendor list: { $vendors }.
change-tcf-vendors-removed = We no longer pass your yes on to these vendors on the IAB's vendor list: { $vendors }.
# $shown: the first ten vendor ids; $more: how many more there are.
change-tcf-vendors-more = { $shown } and { $more } more
# $to and $from: change-tcf-settings-values.
change-tcf-settings = We changed technical details of the consent signals (TC strings) we make: { $to } (before: { $from }).
# $cmp and $version: numbers; $country: a country name.
change-tcf-settings-values = CMP { $cmp } version { $version }, publisher country { $country }

## The whole diff for the catalog's author (keuze catalog diff).

changes-none = No changes.
# A purpose's heading. $title, $purpose (its id); $status: added, removed, material or minor.
changes-purpose-heading =
    { $title } ({ $purpose }): { $status ->
        [added] new purpose
        [removed] removed
        [material] material change
       *[minor] minor changes only
    }
changes-organisation-heading = Organisation: minor changes
changes-categories-heading = Data categories: minor changes
# Ends each change's line, before the rule: "[material: recipient_added]".
changes-material = material
changes-minor = minor
# $material, $minor, $added, $removed: how many purposes.
changes-summary = Purposes: { $material } changed materially, { $minor } changed in minor ways only, { $added } new, { $removed } removed.
changes-ask-again = Customers who agreed to a materially changed purpose are asked again; until they say yes, their earlier consent is not relied on.

## A purpose that is new or gone, for the customer.

change-purpose-added = This purpose is new.
change-purpose-removed = We no longer use your data for this purpose.
