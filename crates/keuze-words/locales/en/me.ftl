## The preference center at /me: the customer's own choices, history and data.

me-title = Your privacy choices
me-intro = Here you choose what we may use your data for. Each switch takes one click, either way. Saying no never blocks anything: you can still shop and use everything just the same.
me-changes = What changed since you last agreed
me-changes-material = This is an important change, so we no longer count on your earlier yes. Switch it on again if you agree.
me-presets = Choose in one click
me-presets-intro = Each button sets every switch below at once. You can still change each one afterwards.
me-preset-current = (your choice now)
me-purposes = Your choices per purpose
me-always-on = Always on.
me-not-switchable = You cannot switch this off; below you read why.
me-not-asked = You have not chosen yet, so it is off.
me-expired = Your yes has expired, so it is off. Switch it on if you want to say yes again.
me-reconsent = This changed since you said yes, so it is off until you say yes again.
me-what-changed = What changed
me-history = Your choices so far
me-history-intro = Newest first. For each choice you can download a receipt: proof, signed by us, that we recorded it.
me-history-empty = You have not made any choices yet.
me-receipt = Download receipt no.
me-your-data = Your data
me-export-intro = Everything we keep about your choices, in one file.
me-export = Download all your data (JSON)
me-erase = Erase your data
me-erase-intro = We then forget your choices. Proof that choices were recorded stays, but it can no longer be tied to you. This also ends your visit.
me-erase-confirm = Yes, erase my data. I understand this cannot be undone.
me-erase-button = Erase my data
me-erase-unconfirmed = Nothing was erased. Tick the box first to confirm that you want your data erased.
me-stale = What we do with your data changed while this page was open. Nothing was saved: read it again and choose once more.
me-session-ends = For your safety this visit ends at
me-back = Back to your choices
me-continue-title = Opening your privacy choices
me-continue-text = One moment, please.
me-continue-link = Continue to your privacy choices
me-no-session-title = This link does not work
me-no-session-missing = This page shows your own choices, so it needs a personal link.
me-no-session-expired = This link or visit has expired.
me-no-session-invalid = This link is not valid.
me-no-session-help = For your safety a link to this page works for 15 minutes, and a visit lasts an hour. Ask us for a new link, for example in your account.
me-not-saved-title = Your choice was not saved
me-not-saved-csrf = We could not check that this came from your own page, so nothing was changed. Go back to your choices and try again.
me-not-saved-form = The form was not complete, so nothing was changed. Go back to your choices and try again.
me-erased-title = Your data is erased
me-erased-text = We erased your data at your request. There is nothing left to choose here.
me-erased-done = We erased your data. Your visit has ended; you can close this page.

# A purpose's switch: what it is now, and what pressing it does. $state: on or off.
me-switch =
    { $state ->
        [on] { $purpose }: on — turn off
       *[off] { $purpose }: off — turn on
    }
# One line of the history: "Newsletter: you said yes, on this page."
me-history-line = { $purpose }: { me-history-what }, { me-history-source }.
# $action: grant, allow (a grant of a legitimate interest), withdraw, object, erase.
me-history-what =
    { $action ->
        [grant] you said yes
        [allow] you allowed it
        [withdraw] you said no
        [object] you objected
       *[erase] erased
    }
# $source: preference_center, banner, api, gpc, import, system.
me-history-source =
    { $source ->
        [preference_center] on this page
        [banner] in the banner on our website
        [api] recorded by us
        [gpc] by your browser's privacy signal (GPC)
        [import] taken over from our earlier records
       *[system] by our system
    }
