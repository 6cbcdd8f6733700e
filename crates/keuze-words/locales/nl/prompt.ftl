## De vragen die de API een organisatie geeft om haar klant te stellen.

prompt-recipient =
    { $outside-eea ->
        [yes] { $name } ({ $country }, buiten de EER)
       *[no] { $name } ({ $country })
    }
