## Incidents: the notice at the top of /me and the public register at /privacy/incidents.

incident-notice-heading = Something went wrong with your data
incident-notice-intro = We must tell you about this. Please read it. It does not change your choices.
incident-high-risk = This may affect you seriously. Please read what you can do.
incident-what-happened = What happened
incident-when = When
incident-data = Which of your data
incident-purposes = What we used the data for
incident-recipients = Who had the data
incident-consequences = What this may mean for you
incident-measures = What we did
incident-advice = What you can do
incident-contact = Questions
incident-acknowledge = I have read this
incident-acknowledged-heading = Incidents we told you about
incident-told-on = We told you on
incident-read-on = You read this on
incident-register-title = Privacy incidents
incident-register-intro = Here we list the incidents in which our customers' data was exposed, what we did about them, and what you can do.
incident-register-empty = There are no incidents on this list.
incident-recorded-on = Recorded on
incident-digest = Fingerprint of this text

# When an incident happened, over more than one day. $from and $to are dates in words.
incident-window = from { $from } to { $to }
