tcf-purpose-name =
    { $id ->
        [1] Informatie op een apparaat opslaan en/of lezen
        [2] Beperkte gegevens gebruiken om advertenties te kiezen
        [3] Profielen maken voor advertenties op maat
        [4] Profielen gebruiken om advertenties op maat te kiezen
        [5] Profielen maken om content op maat te maken
        [6] Profielen gebruiken om content op maat te kiezen
        [7] Meten hoe advertenties presteren
        [8] Meten hoe content presteert
        [9] Doelgroepen begrijpen met statistieken of combinaties van gegevens uit verschillende bronnen
        [10] Diensten ontwikkelen en verbeteren
       *[11] Beperkte gegevens gebruiken om content te kiezen
    }
tcf-special-feature-name =
    { $id ->
        [1] Precieze locatiegegevens gebruiken
       *[2] Apparaatkenmerken actief scannen om je te herkennen
    }
