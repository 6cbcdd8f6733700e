## Incidenten: de melding op /me en het openbare register.

incident-notice-heading = Er ging iets mis met je gegevens
incident-notice-intro = We moeten je hierover vertellen. Lees het alsjeblieft. Je keuzes blijven zoals ze zijn.
incident-high-risk = Dit kan ernstige gevolgen voor je hebben. Lees wat je kunt doen.
incident-what-happened = Wat er gebeurde
incident-when = Wanneer
incident-data = Welke gegevens van jou
incident-purposes = Waarvoor we de gegevens gebruikten
incident-recipients = Wie de gegevens had
incident-consequences = Wat dit voor jou kan betekenen
incident-measures = Wat wij deden
incident-advice = Wat jij kunt doen
incident-contact = Vragen
incident-acknowledge = Ik heb dit gelezen
incident-acknowledged-heading = Incidenten waarover we je vertelden
incident-told-on = We vertelden het je op
incident-read-on = Je las dit op
incident-register-title = Privacy-incidenten
incident-register-intro = Hier staan de incidenten waarbij gegevens van onze klanten in verkeerde handen kwamen, wat we eraan deden en wat jij kunt doen.
incident-register-empty = Er staan geen incidenten op deze lijst.
incident-recorded-on = Vastgelegd op
incident-digest = Vingerafdruk van deze tekst

incident-window = van { $from } tot en met { $to }
