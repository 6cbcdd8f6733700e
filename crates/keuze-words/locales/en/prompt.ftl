## The questions the API hands an organisation to ask its customer (/v1/subjects/prompt).

# A recipient in the API's questions: "Acme (United States, outside the EEA)".
# $name is the recipient, $country its country's name, $outside-eea yes or no.
prompt-recipient =
    { $outside-eea ->
        [yes] { $name } ({ $country }, outside the EEA)
       *[no] { $name } ({ $country })
    }
