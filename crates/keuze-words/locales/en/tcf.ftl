## The IAB's TCF purposes and special features, by id. English as the IAB writes them.

# $id: 1 to 11.
tcf-purpose-name =
    { $id ->
        [1] Store and/or access information on a device
        [2] Use limited data to select advertising
        [3] Create profiles for personalised advertising
        [4] Use profiles to select personalised advertising
        [5] Create profiles to personalise content
        [6] Use profiles to select personalised content
        [7] Measure advertising performance
        [8] Measure content performance
        [9] Understand audiences through statistics or combinations of data from different sources
        [10] Develop and improve services
       *[11] Use limited data to select content
    }
# $id: 1 or 2.
tcf-special-feature-name =
    { $id ->
        [1] Use precise geolocation data
       *[2] Actively scan device characteristics for identification
    }
