## What every page shares: the language, the frame, dates, periods, lists, legal bases.

# This language's name in itself: the link to it from the pages in every other language.
language-name = English

page-skip = Skip to content
# The label of the links to the other languages.
page-language = Language
page-sensitive-note = Data marked (sensitive) needs extra care, such as data about your health. The law protects it more strictly.
# The link to the transparency page, from the preference center and the banner.
# The whole answer when a page fails; the error is logged.
page-not-rendered = The page could not be rendered; try again later.
page-privacy-link = How we use your data

# A date as people write it: 15 January 2027. $day, $month (1 to 12) and $year are numbers.
date-in-words =
    { $day } { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { $year }
# A date and time: 15 January 2027, 10:03 UTC. $hour and $minute come with two digits.
moment-in-words = { date-in-words }, { $hour }:{ $minute } UTC

# A length of time: $amount is a number, $unit one of days, weeks, months, years.
period-in-words =
    { $unit ->
        [days]
            { $amount ->
                [one] { $amount } day
               *[other] { $amount } days
            }
        [weeks]
            { $amount ->
                [one] { $amount } week
               *[other] { $amount } weeks
            }
        [months]
            { $amount ->
                [one] { $amount } month
               *[other] { $amount } months
            }
       *[years]
            { $amount ->
                [one] { $amount } year
               *[other] { $amount } years
            }
    }

# Items in a sentence: "A, B and C". $rest is every item but the last, joined with list-separator.
list-and = { $rest } and { $last }
list-separator = {", "}

# Why we may use data for a purpose. $basis: consent, legitimate_interest, contract, legal_obligation.
# .mid-sentence: the same name in the middle of a sentence, "based on your consent".
legal-basis-name =
    { $basis ->
        [consent] Your consent
        [legitimate_interest] Our legitimate interest
        [contract] Our contract with you
       *[legal_obligation] A legal duty
    }
    .mid-sentence =
        { $basis ->
            [consent] your consent
            [legitimate_interest] our legitimate interest
            [contract] our contract with you
           *[legal_obligation] a legal duty
        }
# What the legal basis means for the reader, in one or two short sentences.
legal-basis-explanation =
    { $basis ->
        [consent] Only with your permission. You can say no, and change your mind at any time.
        [legitimate_interest] We do this unless you object.
        [contract] We need this to deliver what you asked for.
       *[legal_obligation] The law requires this.
    }
