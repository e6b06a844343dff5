from django.urls import path

from bench.baseline import views

urlpatterns = [
    path("open311/v2/services.json", views.ServiceList.as_view()),
    path("open311/v2/requests.json", views.ServiceRequests.as_view()),
    path("open311/v2/requests/<str:public_id>.json", views.ServiceRequest.as_view()),
]
