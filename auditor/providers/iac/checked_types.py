"""What checkov 3.3.30 has resource checks for: the IaC-shaped files it must report on.

A file of one of these shapes in scope that checkov reported neither a result nor a
parsing error for was skipped by checkov (see `auditor.providers.iac.shapes`). Generated
from checkov's own registries; `tests/providers/iac/test_iac_shapes.py` compares these
sets with the installed checkov, so an upgrade that changes them fails a test.
"""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Terraform resource types with at least one checkov resource check.
TERRAFORM_RESOURCE_TYPES = _names(
    """
    alicloud_actiontrail_trail alicloud_alb_acl_entry_attachment alicloud_api_gateway_api
    alicloud_cs_kubernetes alicloud_cs_kubernetes_node_pool alicloud_db_instance alicloud_disk
    alicloud_ecs_launch_template alicloud_kms_key alicloud_log_audit alicloud_mongodb_instance
    alicloud_oss_bucket alicloud_ram_account_password_policy alicloud_ram_security_preference
    alicloud_security_group_rule alicloud_slb_tls_cipher_policy aws_acm_certificate aws_alb
    aws_alb_listener aws_alb_target_group aws_ami aws_ami_copy aws_ami_launch_permission
    aws_api_gateway_deployment aws_api_gateway_domain_name aws_api_gateway_method
    aws_api_gateway_method_settings aws_api_gateway_rest_api aws_api_gateway_stage
    aws_apigatewayv2_route aws_apigatewayv2_stage aws_appflow_connector_profile aws_appflow_flow
    aws_appsync_api_cache aws_appsync_graphql_api aws_athena_database aws_athena_workgroup
    aws_autoscaling_group aws_backup_vault aws_batch_job_definition aws_bedrockagent_agent
    aws_cloudformation_stack aws_cloudfront_distribution aws_cloudfront_response_headers_policy
    aws_cloudsearch_domain aws_cloudtrail aws_cloudtrail_event_data_store aws_cloudwatch_log_group
    aws_cloudwatch_metric_alarm aws_codeartifact_domain aws_codebuild_project
    aws_codecommit_approval_rule_template aws_codegurureviewer_repository_association aws_codepipeline
    aws_cognito_identity_pool aws_comprehend_entity_recognizer aws_config_configuration_aggregator
    aws_connect_instance_storage_config aws_datasync_location_object_storage aws_dax_cluster
    aws_db_cluster_snapshot aws_db_instance aws_db_instance_automated_backups_replication
    aws_db_security_group aws_db_snapshot aws_db_snapshot_copy aws_default_vpc aws_dlm_lifecycle_policy
    aws_dms_endpoint aws_dms_replication_instance aws_dms_s3_endpoint aws_docdb_cluster
    aws_docdb_cluster_parameter_group aws_docdb_global_cluster aws_dynamodb_global_table
    aws_dynamodb_table aws_dynamodb_table_replica aws_ebs_encryption_by_default aws_ebs_snapshot_copy
    aws_ebs_volume aws_ec2_transit_gateway aws_ecr_repository aws_ecr_repository_policy aws_ecs_cluster
    aws_ecs_service aws_ecs_task_definition aws_efs_access_point aws_efs_file_system aws_eks_cluster
    aws_eks_node_group aws_elastic_beanstalk_environment aws_elasticache_cluster
    aws_elasticache_replication_group aws_elasticache_security_group aws_elasticsearch_domain aws_elb
    aws_emr_block_public_access_configuration aws_emr_cluster aws_emr_security_configuration
    aws_fsx_lustre_file_system aws_fsx_ontap_file_system aws_fsx_openzfs_file_system
    aws_fsx_windows_file_system aws_glacier_vault aws_globalaccelerator_accelerator aws_glue_crawler
    aws_glue_data_catalog_encryption_settings aws_glue_dev_endpoint aws_glue_job
    aws_glue_security_configuration aws_guardduty_detector aws_iam_access_key
    aws_iam_account_password_policy aws_iam_group_policy aws_iam_group_policy_attachment aws_iam_policy
    aws_iam_policy_attachment aws_iam_role aws_iam_role_policy aws_iam_role_policy_attachment
    aws_iam_user aws_iam_user_policy aws_iam_user_policy_attachment aws_imagebuilder_component
    aws_imagebuilder_distribution_configuration aws_imagebuilder_image_recipe aws_instance
    aws_kendra_index aws_keyspaces_table aws_kinesis_firehose_delivery_stream aws_kinesis_stream
    aws_kinesis_video_stream aws_kms_key aws_lambda_function aws_lambda_function_url
    aws_lambda_permission aws_launch_configuration aws_launch_template aws_lb aws_lb_listener
    aws_lb_target_group aws_load_balancer_policy aws_memorydb_cluster aws_memorydb_snapshot
    aws_mq_broker aws_mq_configuration aws_msk_cluster aws_mwaa_environment aws_neptune_cluster
    aws_neptune_cluster_instance aws_neptune_cluster_snapshot aws_network_acl aws_network_acl_rule
    aws_networkfirewall_firewall aws_networkfirewall_firewall_policy aws_networkfirewall_rule_group
    aws_opensearch_domain aws_qldb_ledger aws_rds_cluster aws_rds_cluster_activity_stream
    aws_rds_cluster_instance aws_rds_global_cluster aws_redshift_cluster aws_redshift_parameter_group
    aws_redshift_security_group aws_redshift_snapshot_copy_grant aws_redshiftserverless_namespace
    aws_route53domains_registered_domain aws_s3_access_point aws_s3_bucket aws_s3_bucket_acl
    aws_s3_bucket_lifecycle_configuration aws_s3_bucket_object aws_s3_bucket_policy
    aws_s3_bucket_public_access_block aws_s3_object_copy aws_sagemaker_data_quality_job_definition
    aws_sagemaker_domain aws_sagemaker_endpoint_configuration aws_sagemaker_flow_definition
    aws_sagemaker_model aws_sagemaker_notebook_instance aws_scheduler_schedule aws_secretsmanager_secret
    aws_secretsmanager_secret_rotation aws_security_group aws_security_group_rule
    aws_ses_configuration_set aws_sfn_state_machine aws_sns_topic aws_sns_topic_policy aws_sqs_queue
    aws_sqs_queue_policy aws_ssm_document aws_ssm_parameter aws_ssoadmin_managed_policy_attachment
    aws_ssoadmin_permission_set_inline_policy aws_subnet aws_timestreamwrite_database
    aws_transfer_server aws_vpc_endpoint_service aws_vpc_security_group_egress_rule
    aws_vpc_security_group_ingress_rule aws_waf_rule_group aws_waf_web_acl aws_wafregional_rule_group
    aws_wafregional_web_acl aws_wafv2_rule_group aws_wafv2_web_acl aws_workspaces_workspace
    azuread_application_federated_identity_credential azurerm_api_management
    azurerm_api_management_backend azurerm_app_configuration azurerm_app_service
    azurerm_app_service_environment_v3 azurerm_app_service_slot azurerm_application_gateway
    azurerm_automation_variable_bool azurerm_automation_variable_datetime
    azurerm_automation_variable_int azurerm_automation_variable_string azurerm_batch_account
    azurerm_cdn_endpoint azurerm_cdn_endpoint_custom_domain azurerm_cognitive_account
    azurerm_container_group azurerm_container_registry azurerm_cosmosdb_account azurerm_data_factory
    azurerm_data_lake_store azurerm_databricks_workspace azurerm_eventgrid_domain
    azurerm_eventgrid_topic azurerm_eventhub_namespace azurerm_firewall azurerm_firewall_policy
    azurerm_frontdoor azurerm_frontdoor_firewall_policy azurerm_function_app azurerm_function_app_slot
    azurerm_iothub azurerm_key_vault azurerm_key_vault_key azurerm_key_vault_secret
    azurerm_kubernetes_cluster azurerm_kubernetes_cluster_node_pool azurerm_kusto_cluster
    azurerm_linux_function_app azurerm_linux_function_app_slot azurerm_linux_virtual_machine
    azurerm_linux_virtual_machine_scale_set azurerm_linux_web_app azurerm_linux_web_app_slot
    azurerm_machine_learning_compute_cluster azurerm_machine_learning_workspace azurerm_managed_disk
    azurerm_mariadb_firewall_rule azurerm_mariadb_server azurerm_monitor_log_profile
    azurerm_mssql_database azurerm_mssql_database_extended_auditing_policy azurerm_mssql_firewall_rule
    azurerm_mssql_server azurerm_mssql_server_security_alert_policy azurerm_mysql_firewall_rule
    azurerm_mysql_flexible_server azurerm_mysql_flexible_server_firewall_rule azurerm_mysql_server
    azurerm_network_interface azurerm_network_security_group azurerm_network_security_rule
    azurerm_network_watcher_flow_log azurerm_postgresql_configuration azurerm_postgresql_firewall_rule
    azurerm_postgresql_flexible_server azurerm_postgresql_server azurerm_redis_cache
    azurerm_role_definition azurerm_search_service azurerm_security_center_contact
    azurerm_security_center_subscription_pricing azurerm_service_fabric_cluster azurerm_service_plan
    azurerm_servicebus_namespace azurerm_signalr_service azurerm_spring_cloud_api_portal
    azurerm_sql_firewall_rule azurerm_storage_account azurerm_storage_account_network_rules
    azurerm_storage_container azurerm_storage_sync azurerm_synapse_spark_pool azurerm_synapse_sql_pool
    azurerm_synapse_workspace azurerm_virtual_machine azurerm_virtual_machine_scale_set
    azurerm_virtual_network azurerm_virtual_network_dns_servers azurerm_web_application_firewall_policy
    azurerm_web_pubsub azurerm_windows_function_app azurerm_windows_function_app_slot
    azurerm_windows_virtual_machine azurerm_windows_virtual_machine_scale_set azurerm_windows_web_app
    azurerm_windows_web_app_slot digitalocean_droplet digitalocean_firewall digitalocean_spaces_bucket
    github_actions_environment_secret github_actions_organization_secret github_actions_secret
    github_branch_protection github_branch_protection_v3 github_repository github_repository_webhook
    gitlab_branch_protection gitlab_project google_artifact_registry_repository
    google_artifact_registry_repository_iam_binding google_artifact_registry_repository_iam_member
    google_bigquery_dataset google_bigquery_table google_bigquery_table_iam_binding
    google_bigquery_table_iam_member google_bigtable_instance google_cloud_run_service_iam_binding
    google_cloud_run_service_iam_member google_cloudbuild_worker_pool google_cloudfunctions2_function
    google_cloudfunctions2_function_iam_binding google_cloudfunctions2_function_iam_member
    google_cloudfunctions_function google_cloudfunctions_function_iam_binding
    google_cloudfunctions_function_iam_member google_compute_disk google_compute_firewall
    google_compute_instance google_compute_instance_from_template google_compute_instance_template
    google_compute_project_metadata google_compute_security_policy google_compute_ssl_policy
    google_compute_subnetwork google_container_cluster google_container_node_pool
    google_data_fusion_instance google_dataflow_job google_dataproc_cluster
    google_dataproc_cluster_iam_binding google_dataproc_cluster_iam_member google_dns_managed_zone
    google_folder_iam_binding google_folder_iam_member google_iam_workload_identity_pool_provider
    google_kms_crypto_key google_kms_crypto_key_iam_binding google_kms_crypto_key_iam_member
    google_kms_crypto_key_iam_policy google_notebooks_instance google_organization_iam_binding
    google_organization_iam_member google_project google_project_iam_binding google_project_iam_member
    google_pubsub_topic google_pubsub_topic_iam_binding google_pubsub_topic_iam_member
    google_redis_instance google_spanner_database google_sql_database_instance google_storage_bucket
    google_storage_bucket_iam_binding google_storage_bucket_iam_member google_vertex_ai_dataset
    google_vertex_ai_metadata_store kubernetes_cluster_role kubernetes_cluster_role_binding
    kubernetes_cluster_role_binding_v1 kubernetes_cluster_role_v1 kubernetes_config_map
    kubernetes_config_map_v1 kubernetes_cron_job kubernetes_cron_job_v1 kubernetes_daemon_set_v1
    kubernetes_daemonset kubernetes_deployment kubernetes_deployment_v1 kubernetes_ingress
    kubernetes_ingress_v1 kubernetes_job kubernetes_job_v1 kubernetes_pod kubernetes_pod_security_policy
    kubernetes_pod_v1 kubernetes_replication_controller kubernetes_replication_controller_v1
    kubernetes_role kubernetes_role_binding kubernetes_role_binding_v1 kubernetes_role_v1
    kubernetes_secret kubernetes_secret_v1 kubernetes_service kubernetes_service_account
    kubernetes_service_account_v1 kubernetes_service_v1 kubernetes_stateful_set
    kubernetes_stateful_set_v1 linode_firewall linode_instance linode_user ncloud_access_control_group
    ncloud_access_control_group_rule ncloud_launch_configuration ncloud_lb ncloud_lb_listener
    ncloud_lb_target_group ncloud_nas_volume ncloud_network_acl_rule ncloud_nks_cluster ncloud_public_ip
    ncloud_route ncloud_server oci_core_instance oci_core_network_security_group_security_rule
    oci_core_security_list oci_core_volume oci_datacatalog_catalog oci_file_storage_file_system
    oci_identity_authentication_policy oci_objectstorage_bucket openstack_compute_instance_v2
    openstack_compute_secgroup_v2 openstack_fw_rule_v1 openstack_networking_secgroup_rule_v2
    panos_ipsec_crypto_profile panos_management_profile panos_panorama_ipsec_crypto_profile
    panos_panorama_zone panos_security_policy panos_security_rule_group panos_zone panos_zone_entry
    tencentcloud_cbs_storage tencentcloud_clb_instance tencentcloud_clb_listener tencentcloud_instance
    tencentcloud_kubernetes_cluster tencentcloud_mysql_instance tencentcloud_security_group_rule_set
    tencentcloud_vpc_flow_log_config yandex_compute_instance yandex_compute_instance_group
    yandex_kms_symmetric_key yandex_kubernetes_cluster yandex_kubernetes_node_group
    yandex_mdb_clickhouse_cluster yandex_mdb_elasticsearch_cluster yandex_mdb_greenplum_cluster
    yandex_mdb_kafka_cluster yandex_mdb_mongodb_cluster yandex_mdb_mysql_cluster
    yandex_mdb_postgresql_cluster yandex_mdb_redis_cluster yandex_mdb_sqlserver_cluster
    yandex_organizationmanager_organization_iam_binding
    yandex_organizationmanager_organization_iam_member yandex_resourcemanager_cloud_iam_binding
    yandex_resourcemanager_cloud_iam_member yandex_resourcemanager_folder_iam_binding
    yandex_resourcemanager_folder_iam_member yandex_storage_bucket yandex_vpc_security_group
    yandex_vpc_security_group_rule
    """
)

# CloudFormation resource types with at least one checkov resource check.
CLOUDFORMATION_RESOURCE_TYPES = _names(
    """
    AWS::AmazonMQ::Broker AWS::ApiGateway::Method AWS::ApiGateway::Stage AWS::ApiGatewayV2::Stage
    AWS::AppSync::GraphQLApi AWS::Athena::WorkGroup AWS::AutoScaling::LaunchConfiguration
    AWS::Backup::BackupVault AWS::Bedrock::Agent AWS::CloudFront::Distribution AWS::CloudTrail::Trail
    AWS::CodeBuild::Project AWS::Cognito::IdentityPool AWS::DAX::Cluster AWS::DMS::ReplicationInstance
    AWS::DocDB::DBCluster AWS::DocDB::DBClusterParameterGroup AWS::DynamoDB::GlobalTable
    AWS::DynamoDB::Table AWS::EC2::Instance AWS::EC2::LaunchTemplate AWS::EC2::SecurityGroup
    AWS::EC2::SecurityGroupEgress AWS::EC2::SecurityGroupIngress AWS::EC2::VPCEndpointService
    AWS::EC2::Volume AWS::ECR::Repository AWS::ECS::Cluster AWS::ECS::TaskDefinition
    AWS::EFS::FileSystem AWS::EKS::Cluster AWS::EKS::Nodegroup AWS::ElastiCache::ReplicationGroup
    AWS::ElasticLoadBalancing::LoadBalancer AWS::ElasticLoadBalancingV2::Listener
    AWS::ElasticLoadBalancingV2::LoadBalancer AWS::Elasticsearch::Domain AWS::Glue::Crawler
    AWS::Glue::DataCatalogEncryptionSettings AWS::Glue::DevEndpoint AWS::Glue::Job
    AWS::Glue::SecurityConfiguration AWS::IAM::Group AWS::IAM::ManagedPolicy AWS::IAM::Policy
    AWS::IAM::Role AWS::IAM::User AWS::KMS::Key AWS::Kinesis::Stream AWS::Lambda::Function
    AWS::Lambda::Permission AWS::Lambda::Url AWS::Logs::LogGroup AWS::MSK::Cluster
    AWS::Neptune::DBCluster AWS::OpenSearchService::Domain AWS::QLDB::Ledger AWS::RDS::DBCluster
    AWS::RDS::DBInstance AWS::Redshift::Cluster AWS::Redshift::ClusterParameterGroup AWS::S3::Bucket
    AWS::SNS::Topic AWS::SQS::Queue AWS::SSM::Parameter AWS::SageMaker::DataQualityJobDefinition
    AWS::SageMaker::Domain AWS::SageMaker::Model AWS::SageMaker::NotebookInstance
    AWS::SecretsManager::Secret AWS::Serverless::Api AWS::Serverless::Function AWS::Serverless::HttpApi
    AWS::Timestream::Database AWS::Transfer::Server AWS::WAFv2::WebACL AWS::WorkSpaces::Workspace
    """
)

# Kubernetes kinds with at least one checkov check.
KUBERNETES_KINDS = _names(
    """
    AdmissionConfiguration ClusterRole ClusterRoleBinding ConfigMap CronJob DaemonSet Deployment
    DeploymentConfig Ingress Job Pod PodSecurityPolicy PodTemplate ReplicaSet ReplicationController Role
    RoleBinding Secret Service ServiceAccount StatefulSet
    """
)
