def test_home_in_english_and_french(client):
    english = client.get("/", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.get_data(as_text=True)
    french = client.get("/?lang=fr")
    assert '<html lang="fr">' in french.get_data(as_text=True)
