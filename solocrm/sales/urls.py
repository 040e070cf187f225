"""The sales pages under /sales/, one "sales" namespace; each part keeps its own urls.py."""

from solocrm.sales.deals.urls import urlpatterns as deals_urls
from solocrm.sales.leadforms.urls import urlpatterns as leadforms_urls
from solocrm.sales.orders.urls import urlpatterns as orders_urls
from solocrm.sales.quotes.urls import urlpatterns as quotes_urls
from solocrm.sales.tasks.urls import urlpatterns as tasks_urls

app_name = "sales"
urlpatterns = [*tasks_urls, *orders_urls, *quotes_urls, *leadforms_urls, *deals_urls]
