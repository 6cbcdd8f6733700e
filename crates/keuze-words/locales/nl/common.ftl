## Wat alle pagina's delen: de taal, het kader, datums, perioden, opsommingen, grondslagen.

language-name = Nederlands

page-skip = Naar de inhoud
page-language = Taal
page-sensitive-note = Gegevens met (gevoelig) erbij vragen extra zorg, zoals gegevens over je gezondheid. De wet beschermt ze strenger.
page-not-rendered = De pagina kon niet worden getoond; probeer het later opnieuw.
page-privacy-link = Hoe we je gegevens gebruiken

date-in-words =
    { $day } { $month ->
        [1] januari
        [2] februari
        [3] maart
        [4] april
        [5] mei
        [6] juni
        [7] juli
        [8] augustus
        [9] september
        [10] oktober
        [11] november
       *[12] december
    } { $year }
moment-in-words = { date-in-words }, { $hour }:{ $minute } UTC

period-in-words =
    { $unit ->
        [days]
            { $amount ->
                [one] { $amount } dag
               *[other] { $amount } dagen
            }
        [weeks]
            { $amount ->
                [one] { $amount } week
               *[other] { $amount } weken
            }
        [months]
            { $amount ->
                [one] { $amount } maand
               *[other] { $amount } maanden
            }
       *[years] { $amount } jaar
    }

list-and = { $rest } en { $last }
list-separator = {", "}

legal-basis-name =
    { $basis ->
        [consent] Jouw toestemming
        [legitimate_interest] Ons gerechtvaardigd belang
        [contract] Onze overeenkomst met jou
       *[legal_obligation] Een wettelijke plicht
    }
    .mid-sentence =
        { $basis ->
            [consent] jouw toestemming
            [legitimate_interest] ons gerechtvaardigd belang
            [contract] onze overeenkomst met jou
           *[legal_obligation] een wettelijke plicht
        }
legal-basis-explanation =
    { $basis ->
        [consent] Alleen met jouw toestemming. Je kunt nee zeggen, en je kunt altijd van gedachten veranderen.
        [legitimate_interest] We doen dit, tenzij je bezwaar maakt.
        [contract] We hebben dit nodig om te leveren wat je vroeg.
       *[legal_obligation] De wet verplicht ons hiertoe.
    }
