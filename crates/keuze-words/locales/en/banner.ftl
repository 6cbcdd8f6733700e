## The banner's texts, sent with its prompt, and the demo shop at /banner/demo.

banner-title = Your choice
# $org is the organisation's name, $purposes the purposes asked about, as a list.
# $reason: first (never asked) or again (something changed, or the yes expired).
banner-intro =
    { $reason ->
        [again] { $org } asks your permission for: { $purposes }. You choose. If you say no, you can still do everything on this site. Something changed since you last chose, so we ask again.
       *[first] { $org } asks your permission for: { $purposes }. You choose. If you say no, you can still do everything on this site.
    }
# The purposes the browser's Global Privacy Control signal refused, as a list.
banner-gpc = Your browser asks sites not to share or sell your data (Global Privacy Control). We do as it asks: { $purposes } stays off.
banner-accept-all = Accept all
banner-reject-all = Reject all
banner-choose = Choose
banner-choose-intro = Switch on what you want. Everything stays off until you switch it on.
banner-save = Save
banner-back = Back
banner-benefit = What you get:
banner-on = On
banner-off = Off

# The demo page's title. $org is the organisation's name.
demo-title = { $org } — banner demo
demo-settings = Privacy settings
demo-heading = Bikes for every day
# Before and after the one line of HTML that embeds the banner.
demo-intro-before-code = This is a sample shop that loads Keuze's banner with one line:
demo-intro-after-code = The banner asks only what it must, and after that nothing at all.
demo-products = Products
demo-product-city-bike = City bike Gracht
demo-product-e-bike = E-bike Dijk
demo-product-pannier = Pannier Polder
demo-status = What this shop may do now
demo-purpose = Purpose
demo-allowed = Allowed
demo-yes = yes
demo-no = no
